// The replicator's guarantee "no message dropped on restart": the replicator runs as a real process
// (services/replicator/src/main.ts), is SIGKILLed while all five regions write, and restarted → every
// region converges and no update is lost (source offsets are committed only after every destination
// acknowledged; what was in flight at the kill is re-read and re-delivered, and merges are idempotent).
import { type Cluster, type ServiceProcess, startCluster } from "@meridian/cluster";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  measureConvergence,
  reportConvergence,
  sleep,
  stopAndPurge,
  uniqueNamespace,
} from "../support/pipeline.js";
import { sigkill, spawnReplicator } from "./support/service-children.js";
import { expectEveryRegionHolds, keepWriting, noWritesYet } from "./support/write-rounds.js";

const COUNTERS = ["pos:q0", "pos:q1", "pos:q2"];
const SETS = ["watch:q0"];
const KEYS = { counters: COUNTERS, sets: SETS };

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
    await stopAndPurge(cluster);
  });

  it("converges after SIGKILL + restart of the replicator, nothing lost", async () => {
    const expected = noWritesYet(COUNTERS);
    replicator = await spawnReplicator(cluster);
    expect(String(replicator.readyLine.url)).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const writer = keepWriting(cluster, KEYS, expected, { pauseMs: 50 });

    await sleep(2500);
    await sigkill(replicator);
    // Without the replicator the regions drift apart: each only sees its own writes.
    await sleep(2000);
    expect((await cluster.compareStates(COUNTERS)).converged).toBe(false);

    replicator = await spawnReplicator(cluster);
    await sleep(2000);
    await writer.stop();

    const perKey = await measureConvergence(cluster, [...COUNTERS, ...SETS], writer.lastAckMs, 30_000);
    const summary = reportConvergence("replicator-restart", perKey.values(), { rounds: writer.rounds });
    expect(summary.count).toBe(COUNTERS.length + SETS.length);
    await expectEveryRegionHolds(cluster, KEYS, expected);
  });
});
