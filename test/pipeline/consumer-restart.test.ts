// one region's invalidation consumer — a real child process running
// services/invalidation-consumer/src/main.ts — is killed with SIGKILL mid-run while all regions keep
// writing, then restarted → every region converges to the same state and no update is lost (offsets
// are committed only after the merge, and a replayed merge is a no-op).
import { type Cluster, type ServiceProcess, startCluster } from "@meridian/cluster";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  get,
  measureConvergence,
  reportConvergence,
  sleep,
  stopAndPurge,
  uniqueNamespace,
} from "../support/pipeline.js";
import { sigkill, spawnConsumer } from "./support/service-children.js";
import { expectEveryRegionHolds, keepWriting, noWritesYet } from "./support/write-rounds.js";

const VICTIM = "eu-west";
const COUNTERS = ["pos:r0", "pos:r1", "pos:r2", "pos:r3"];
const SETS = ["watch:r0"];
const KEYS = { counters: COUNTERS, sets: SETS };

describe("invalidation consumer killed and restarted", () => {
  let cluster: Cluster;
  let consumer: ServiceProcess | undefined;

  beforeAll(async () => {
    cluster = await startCluster({
      namespace: uniqueNamespace("restart"),
      marketData: false,
      externalConsumers: [VICTIM],
      critical: false,
    });
  });

  afterAll(async () => {
    await consumer?.stop();
    await stopAndPurge(cluster);
  });

  it("converges after SIGKILL + restart of one region's consumer, nothing lost", async () => {
    const expected = noWritesYet(COUNTERS);
    consumer = await spawnConsumer(cluster, VICTIM);
    const writer = keepWriting(cluster, KEYS, expected, { pauseMs: 50 });

    // Let the consumer merge for a while, then kill it without warning (no commit, no leave-group).
    await sleep(2500);
    const victimBefore =
      (await get(cluster.regions[VICTIM]!.url, "important", COUNTERS[0]!)).body?.value ?? 0;
    expect(await sigkill(consumer)).toBeNull();
    // While it is dead, the region falls behind: other regions' updates pile up in its inbound topic.
    await sleep(2000);
    expect((await cluster.compareStates(COUNTERS)).converged).toBe(false);

    const restartedAt = Date.now();
    consumer = await spawnConsumer(cluster, VICTIM);
    const readyMs = Date.now() - restartedAt;
    await sleep(2000);
    await writer.stop();

    const perKey = await measureConvergence(cluster, [...COUNTERS, ...SETS], writer.lastAckMs, 30_000);
    const summary = reportConvergence("consumer-restart", perKey.values(), {
      rounds: writer.rounds,
      restartReadyMs: readyMs,
      victimCounterAtKill: victimBefore,
    });
    expect(summary.count).toBe(COUNTERS.length + SETS.length);

    await expectEveryRegionHolds(cluster, KEYS, expected);
    expect(expected.counters.get(COUNTERS[0]!)!).toBeGreaterThan(victimBefore);
  });
});
