// Nemesis, the broker: the only Kafka broker of a private cluster is killed (-9) and started again on
// its log while every region writes. Writes made while it is down fail or stay unknown; once it is back,
// producers, consumers and the replicator must resume on their own and every region converge.
import { afterAll, beforeAll, describe, it } from "vitest";
import { sleep } from "../support/pipeline.js";
import { RestartableKafka } from "../support/private-kafka.js";
import { expectEventualGuarantees, runEventualFault } from "./support/eventual-faults.js";
import { loadKeys } from "./support/eventual-load.js";
import { type FaultCluster, startFaultCluster } from "./support/fault-cluster.js";
import { writeFaultsMd } from "./support/faults-report.js";

let kafka: RestartableKafka;
let cluster: FaultCluster;
beforeAll(async () => {
  kafka = await RestartableKafka.start();
  cluster = await startFaultCluster({ label: "nem-brk", kafkaBrokers: kafka.brokers });
}, 240_000);
afterAll(async () => {
  await cluster?.stop();
  await kafka?.stop();
  writeFaultsMd();
});

describe("nemesis: the broker dies", () => {
  it("broker kill -9, restarted on its log: nothing acknowledged lost, converged < 5 s", async () => {
    const r = await runEventualFault(cluster, {
      order: 40,
      id: "broker-kill",
      scenario: "broker: the only Kafka broker kill -9 + restart (same log)",
      keys: loadKeys("bk"),
      fault: async () => {
        await kafka.kill();
        await sleep(2000);
        const t0 = Date.now();
        await kafka.restart();
        console.log(`[faults] private broker answered again ${Date.now() - t0} ms after its restart`);
        return Date.now();
      },
    });
    expectEventualGuarantees(r);
  }, 240_000);
});
