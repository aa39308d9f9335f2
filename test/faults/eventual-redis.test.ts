// Nemesis, eventual tier over one private Redis per region: a region's Redis frozen (SIGSTOP) and thawed,
// and a region cut off by the replicator and healed,
// each while every region keeps incrementing PN-counters and adding to OR-sets; and two regions whose HLC
// reads a skewed clock.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { get, measureConvergence, sleep } from "../support/pipeline.js";
import { expectEventualGuarantees, runEventualFault } from "./support/eventual-faults.js";
import { httpWriter, loadKeys, type RegionWriter } from "./support/eventual-load.js";
import { type FaultCluster, startFaultCluster } from "./support/fault-cluster.js";
import { writeFaultsMd } from "./support/faults-report.js";
import { skewedWriter } from "./support/skewed-writer.js";

let cluster: FaultCluster;
beforeAll(async () => {
  cluster = await startFaultCluster({ label: "nem-ev" });
});
afterAll(async () => {
  await cluster?.stop();
  writeFaultsMd();
});

describe("nemesis: eventual data while one region's Redis or link fails", () => {
  it("ap-south Redis frozen 3 s (SIGSTOP/SIGCONT): nothing lost, converged < 5 s", async () => {
    const r = await runEventualFault(cluster, {
      order: 21,
      id: "eventual-redis-stop",
      scenario: "eventual: ap-south Redis SIGSTOP 3 s / SIGCONT",
      keys: loadKeys("s"),
      fault: async () => {
        const victim = cluster.servers.of("ap-south");
        victim.freeze();
        await sleep(3000);
        victim.thaw();
        return Date.now();
      },
    });
    expectEventualGuarantees(r);
  });

  it("ap-northeast cut off by the replicator for 3 s, healed: nothing lost, converged < 5 s", async () => {
    const r = await runEventualFault(cluster, {
      order: 22,
      id: "eventual-partition",
      exact: true,
      scenario: "eventual: ap-northeast partitioned 3 s (replicator), healed",
      keys: loadKeys("p"),
      fault: async () => {
        cluster.replicator.partition("ap-northeast");
        await sleep(3000);
        cluster.replicator.heal("ap-northeast");
        return Date.now();
      },
    });
    expectEventualGuarantees(r);
  });
});

describe("nemesis: clock skew in one region's HLC", () => {
  it("us-west +20 s and ap-south −20 s: counters exact, a causally later LWW write always wins", async () => {
    const ahead = await skewedWriter(cluster, "us-west", 20_000);
    const behind = await skewedWriter(cluster, "ap-south", -20_000);
    const chain: { region: string; value: string }[] = [
      { region: "us-west", value: "from-ahead" },
      { region: "eu-west", value: "after-ahead" },
      { region: "ap-south", value: "from-behind-after" },
      { region: "us-east", value: "last" },
    ];
    const writers: Record<string, RegionWriter> = { "us-west": ahead.writer, "ap-south": behind.writer };
    try {
      const r = await runEventualFault(cluster, {
        order: 23,
        id: "eventual-clock-skew",
        exact: true,
        scenario: "eventual: clock skew, us-west HLC +20 s, ap-south −20 s",
        keys: loadKeys("c"),
        customWriters: writers,
        fault: async () => {
          // Each write of the chain is made after its region saw the previous one: it must win everywhere.
          for (const step of chain) {
            const send = writers[step.region] ?? httpWriter(cluster.regions[step.region]!.url);
            expect(await send("px:skew", { value: step.value })).toBe(200);
            await measureConvergence(cluster, ["px:skew"], Date.now(), 5000);
          }
          return Date.now();
        },
        faultAfterMs: 500,
        verifyExtra: async () => {
          const problems: string[] = [];
          for (const region of cluster.layout.regions) {
            const v = (await get(cluster.regions[region]!.url, "important", "px:skew")).body?.value;
            if (v !== "last")
              problems.push(`px:skew@${region}=${JSON.stringify(v)}, last acknowledged "last"`);
          }
          return { lost: problems.length > 0 ? 1 : 0, problems };
        },
      });
      expectEventualGuarantees(r);
    } finally {
      await ahead.close();
      await behind.close();
    }
  });
});
