// Nemesis, an eventual region's Redis restarted EMPTY (kill -9, no persistence) and written at once: the
// region must not reuse the vector-clock / PN-counter / OR-set dots it issued before the restart (its
// increments after the restart must count, its adds must not look already seen).
import { afterAll, beforeAll, describe, it } from "vitest";
import { sleep } from "../support/pipeline.js";
import { expectEventualGuarantees, runEventualFault } from "./support/eventual-faults.js";
import { loadKeys } from "./support/eventual-load.js";
import { type FaultCluster, startFaultCluster } from "./support/fault-cluster.js";
import { writeFaultsMd } from "./support/faults-report.js";

let cluster: FaultCluster;
beforeAll(async () => {
  cluster = await startFaultCluster({ label: "nem-rst" });
});
afterAll(async () => {
  await cluster?.stop();
  writeFaultsMd();
});

describe("nemesis: a region's Redis restarted empty", () => {
  it("eventual: eu-west Redis kill -9, restarted empty: no acknowledged increment lost, converged < 5 s", async () => {
    const r = await runEventualFault(cluster, {
      order: 20,
      id: "eventual-redis-kill",
      scenario: "eventual: eu-west Redis kill -9 + restart empty, written at once",
      keys: loadKeys("k"),
      fault: async (load) => {
        const victim = cluster.servers.of("eu-west");
        await victim.kill();
        await sleep(500);
        await victim.restartEmpty();
        // A client writes there at once, before anti-entropy refilled the region: its increments must
        // count, though the region's own counter entries were lost with its memory.
        await load.writeRound("eu-west", -1);
        return Date.now();
      },
    });
    expectEventualGuarantees(r);
  });
});
