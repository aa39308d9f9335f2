// Nemesis, processes: one region's invalidation consumer SIGKILLed, one region node SIGKILLed, and the
// same region node frozen with SIGSTOP — each a real child process, restarted (or thawed) while every
// region keeps writing PN-counters and OR-sets.
import { afterAll, beforeAll, describe, it } from "vitest";
import { sleep } from "../support/pipeline.js";
import { expectEventualGuarantees, runEventualFault } from "./support/eventual-faults.js";
import { loadKeys } from "./support/eventual-load.js";
import { type FaultCluster, startFaultCluster } from "./support/fault-cluster.js";
import { writeFaultsMd } from "./support/faults-report.js";

const CONSUMER_VICTIM = "eu-west";
const NODE_VICTIM = "ap-northeast";

let cluster: FaultCluster;
beforeAll(async () => {
  cluster = await startFaultCluster({
    label: "nem-proc",
    childNodes: [NODE_VICTIM],
    childConsumers: [CONSUMER_VICTIM],
  });
});
afterAll(async () => {
  await cluster?.stop();
  writeFaultsMd();
});

describe("nemesis: a service process dies or freezes", () => {
  it("eu-west invalidation consumer SIGKILL, restarted: nothing lost, converged < 5 s", async () => {
    const consumer = cluster.childConsumers[CONSUMER_VICTIM]!;
    const r = await runEventualFault(cluster, {
      order: 30,
      id: "process-consumer-kill",
      exact: true,
      scenario: "process: eu-west invalidation consumer SIGKILL + restart",
      keys: loadKeys("ck"),
      fault: async () => {
        await consumer.kill();
        await sleep(2000);
        await consumer.start();
        return Date.now();
      },
    });
    expectEventualGuarantees(r);
  });

  it("ap-northeast region node SIGKILL, restarted: nothing acknowledged lost, converged < 5 s", async () => {
    const node = cluster.childNodes[NODE_VICTIM]!;
    const r = await runEventualFault(cluster, {
      order: 31,
      id: "process-node-kill",
      scenario: "process: ap-northeast region node SIGKILL + restart",
      keys: loadKeys("nk"),
      fault: async () => {
        await node.kill();
        await sleep(1000);
        await node.start();
        return Date.now();
      },
    });
    expectEventualGuarantees(r);
  });

  it("ap-northeast region node frozen 3 s (SIGSTOP/SIGCONT): nothing acknowledged lost, converged < 5 s", async () => {
    const node = cluster.childNodes[NODE_VICTIM]!;
    const r = await runEventualFault(cluster, {
      order: 32,
      id: "process-node-stop",
      scenario: "process: ap-northeast region node SIGSTOP 3 s / SIGCONT",
      keys: loadKeys("ns"),
      fault: async () => {
        node.freeze();
        await sleep(3000);
        node.thaw();
        return Date.now();
      },
    });
    expectEventualGuarantees(r);
  });
});
