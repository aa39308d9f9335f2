// Batched apply across crashes: PN-counter increments are written in all five regions while one region's
// invalidation consumer (pipelined, batch-merging) is SIGKILLed and then the replicator (batch-forwarding)
// is SIGKILLed, both real child processes. After both restart, every region's counter equals exactly the
// sum of acknowledged increments: nothing a batch held at the kill was lost (offsets are committed only
// after every merge of the window / every destination acknowledged) and nothing was counted twice
// (re-delivered records merge as no-ops). The replicator dies while a partitioned region's links hold
// messages it has taken from the source topics (the last writes of the run): their offsets must not
// have been committed. Checked to fail when the replicator commits an offset as soon as it takes it.
import { type Cluster, type ServiceProcess, startCluster } from "@meridian/cluster";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  AUTH_HEADERS,
  measureConvergence,
  sleep,
  stopAndPurge,
  uniqueNamespace,
} from "../support/pipeline.js";
import { sigkill, spawnConsumer, spawnReplicator } from "./support/service-children.js";
import { expectEveryRegionHolds, keepWriting, noWritesYet } from "./support/write-rounds.js";

const VICTIM = "ap-south";
/** Cut off before the replicator is killed, so it dies holding taken but undelivered messages. */
const HELD = "us-west";
const COUNTERS = ["pos:k0", "pos:k1", "pos:k2", "pos:k3", "pos:k4", "pos:k5"];
const KEYS = { counters: COUNTERS, sets: [] };

describe("consumer SIGKILL, then replicator SIGKILL, under PN-counter writes in all regions", () => {
  let cluster: Cluster;
  let consumer: ServiceProcess | undefined;
  let replicator: ServiceProcess | undefined;

  beforeAll(async () => {
    cluster = await startCluster({
      namespace: uniqueNamespace("applykill"),
      marketData: false,
      critical: false,
      externalConsumers: [VICTIM],
      externalReplicator: true,
      // Only the stream may deliver: anti-entropy would repair a lost message and hide the loss.
      antiEntropy: false,
    });
  });

  afterAll(async () => {
    await consumer?.stop();
    await replicator?.stop();
    await stopAndPurge(cluster);
  });

  it("every region ends at exactly the sum of acknowledged increments", async () => {
    const t0 = Date.now();
    const phases: Record<string, number> = {};
    const mark = (phase: string) => {
      phases[phase] = Date.now() - t0;
    };
    const expected = noWritesYet(COUNTERS);
    [consumer, replicator] = await Promise.all([spawnConsumer(cluster, VICTIM), spawnReplicator(cluster)]);
    mark("started");
    const writer = keepWriting(cluster, KEYS, expected, { pauseMs: 20 });

    await sleep(1_500);
    await sigkill(consumer);
    const partitioned = await fetch(`${replicator.readyLine.url}/admin/partition/${HELD}`, {
      method: "POST",
      headers: AUTH_HEADERS,
    });
    expect(partitioned.status).toBe(200);
    // At least two whole rounds written while HELD is cut off (rounds are slow on a loaded machine).
    const roundAtPartition = writer.rounds;
    while (writer.rounds < roundAtPartition + 3) await sleep(50);
    // The last writes end while the links into and out of HELD hold them: lost offsets would lose them
    // for good (a later update of the key would carry the same counts and hide the loss).
    await writer.stop();
    mark("written");
    const held = await (
      await fetch(`${replicator.readyLine.url}/admin/status`, { headers: AUTH_HEADERS })
    ).json();
    expect(Object.values(held.held as Record<string, number>).some((n) => n > 0)).toBe(true);
    await sigkill(replicator);
    mark("killed");
    [consumer, replicator] = await Promise.all([
      spawnConsumer(cluster, VICTIM).finally(() => mark("consumer ready")),
      spawnReplicator(cluster).finally(() => mark("replicator ready")),
    ]);

    const perKey = await measureConvergence(cluster, COUNTERS, writer.lastAckMs, 20_000);
    mark("converged");
    console.log(`[apply-kill] ${JSON.stringify({ phases, rounds: writer.rounds })}`);
    expect(perKey.size).toBe(COUNTERS.length);
    expect(writer.rounds).toBeGreaterThan(3);
    await expectEveryRegionHolds(cluster, KEYS, expected);
  }, 60_000);
});
