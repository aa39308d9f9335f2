// The replicator's guarantee "no message dropped on restart": the replicator runs as a real process
// (services/replicator/src/main.ts), is SIGKILLed while all five regions write, and restarted → every
// region converges and no update is lost (source offsets are committed only after every destination
// acknowledged; what was in flight at the kill is re-read and re-delivered, and merges are idempotent).
import { type Cluster, type ServiceProcess, spawnService, startCluster } from "@meridian/cluster";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  get,
  measureConvergence,
  reportConvergence,
  sleep,
  uniqueNamespace,
  writeRoundInEveryRegion,
} from "../support/pipeline.js";

const COUNTERS = ["pos:q0", "pos:q1", "pos:q2"];
const SETS = ["watch:q0"];

function spawnReplicator(cluster: Cluster): Promise<ServiceProcess> {
  return spawnService({
    name: "replicator",
    service: "replicator",
    env: { MERIDIAN_NAMESPACE: cluster.namespace!, MERIDIAN_REGIONS: cluster.layout.regions.join(",") },
    readyMsg: "listening",
  });
}

describe("replicator killed and restarted", () => {
  let cluster: Cluster;
  let replicator: ServiceProcess | undefined;

  beforeAll(async () => {
    cluster = await startCluster({
      namespace: uniqueNamespace("repl"),
      marketData: false,
      critical: false,
      externalReplicator: true,
    });
  });

  afterAll(async () => {
    await replicator?.stop();
    if (!cluster) return;
    await cluster.stop();
    await cluster.purge();
  });

  it("converges after SIGKILL + restart of the replicator, nothing lost", async () => {
    const regions = cluster.layout.regions;
    const expected = new Map(COUNTERS.map((k) => [k, 0]));
    const expectedSet = new Set<string>();
    let lastWriteAck = 0;
    let round = 0;
    let writing = true;

    replicator = await spawnReplicator(cluster);
    expect(String(replicator.readyLine.url)).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const writer = (async () => {
      while (writing) {
        const r = round++;
        await writeRoundInEveryRegion(
          cluster,
          r,
          { counters: COUNTERS, sets: SETS },
          { counters: expected, setElements: expectedSet },
        );
        lastWriteAck = Date.now();
        await sleep(50);
      }
    })();

    await sleep(2500);
    replicator.child.kill("SIGKILL");
    await replicator.exited;
    expect(replicator.child.signalCode).toBe("SIGKILL");
    // Without the replicator the regions drift apart: each only sees its own writes.
    await sleep(2000);
    expect((await cluster.compareStates(COUNTERS)).converged).toBe(false);

    replicator = await spawnReplicator(cluster);
    await sleep(2000);
    writing = false;
    await writer;

    const perKey = await measureConvergence(cluster, [...COUNTERS, ...SETS], lastWriteAck, 30_000);
    const summary = reportConvergence("replicator-restart", perKey.values(), { rounds: round });
    expect(summary.count).toBe(COUNTERS.length + SETS.length);
    for (const region of regions) {
      const url = cluster.regions[region]!.url;
      for (const k of COUNTERS) {
        expect((await get(url, "important", k)).body.value, `${k}@${region}`).toBe(expected.get(k));
      }
      const set = (await get(url, "important", SETS[0]!)).body.value as string[];
      expect([...set].sort(), `set@${region}`).toEqual([...expectedSet].sort());
    }
  });
});
