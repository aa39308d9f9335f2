// one region partitioned for 10 s (through the replicator's admin HTTP API) while
// all five regions keep writing, then healed → every region holds the same CRDT state within 5 s of the
// heal, and nothing written during the partition is lost (held by the replicator, not dropped).
import { type Cluster, startCluster } from "@meridian/cluster";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  AUTH_HEADERS,
  get,
  measureConvergence,
  mustPut,
  reportConvergence,
  sleep,
  stopAndPurge,
  uniqueNamespace,
} from "../support/pipeline.js";
import { expectEveryRegionHolds, keepWriting, noWritesYet } from "./support/write-rounds.js";

const VICTIM = "ap-south";
const PARTITION_MS = 10_000;
const COUNTERS = ["pos:a", "pos:b", "pos:c"];
const LWW = ["px:a", "px:b"];
const SETS = ["watch:a"];
const KEYS = [...COUNTERS, ...LWW, ...SETS];
const ROUND_KEYS = { counters: COUNTERS, sets: SETS, lww: LWW };

async function admin(cluster: Cluster, action: "partition" | "heal", region: string) {
  const res = await fetch(`${cluster.replicator.url}/admin/${action}/${region}`, {
    method: "POST",
    headers: AUTH_HEADERS,
  });
  return { status: res.status, body: (await res.json()) as { partitions: string[] } };
}

describe("partition and heal", () => {
  let cluster: Cluster;

  beforeAll(async () => {
    cluster = await startCluster({ namespace: uniqueNamespace("part"), marketData: false, critical: false });
  });

  afterAll(() => stopAndPurge(cluster));

  it("a region partitioned for 10 s converges within 5 s of the heal, nothing lost", async () => {
    const regions = cluster.layout.regions;
    const others = regions.filter((r) => r !== VICTIM);
    const expected = noWritesYet(COUNTERS);

    const cut = await admin(cluster, "partition", VICTIM);
    expect(cut.status).toBe(200);
    expect(cut.body.partitions).toEqual([VICTIM]);
    const partitionedAt = Date.now();

    const writer = keepWriting(cluster, ROUND_KEYS, expected, {
      pauseMs: 100,
      until: () => Date.now() - partitionedAt >= PARTITION_MS,
    });

    // While cut off: a write in us-east reaches the other regions but not the victim, and the victim's
    // own writes stay home; the replicator holds the victim's links instead of dropping them.
    await sleep(1500);
    await mustPut(cluster.regions["us-east"]!.url, "px:marker", { value: "during-partition" });
    await measureConvergence(cluster, ["px:marker"], Date.now(), 5000, others);
    expect((await get(cluster.regions[VICTIM]!.url, "important", "px:marker")).status).toBe(404);
    await sleep(1000);
    const held = cluster.replicator.status().held;
    const heldToVictim = others.reduce((n, r) => n + (held[`${r}→${VICTIM}`] ?? 0), 0);
    const heldFromVictim = others.reduce((n, r) => n + (held[`${VICTIM}→${r}`] ?? 0), 0);
    expect(heldToVictim).toBeGreaterThan(0);
    expect(heldFromVictim).toBeGreaterThan(0);
    expect((await cluster.compareStates(COUNTERS)).converged).toBe(false);

    await writer.done;
    const healed = await admin(cluster, "heal", VICTIM);
    const healedAt = Date.now();
    expect(healed.status).toBe(200);
    expect(healed.body.partitions).toEqual([]);

    const perKey = await measureConvergence(cluster, [...KEYS, "px:marker"], healedAt, 20_000);
    const summary = reportConvergence("partition-heal", perKey.values(), {
      partitionedMs: healedAt - partitionedAt,
      rounds: writer.rounds,
      heldAtCheck: { toVictim: heldToVictim, fromVictim: heldFromVictim },
    });
    expect(summary.maxMs).toBeLessThanOrEqual(5000);

    await expectEveryRegionHolds(cluster, ROUND_KEYS, expected);
    for (const region of regions) {
      const url = cluster.regions[region]!.url;
      expect((await get(url, "important", "px:marker")).body.value).toBe("during-partition");
    }
  });

  it("rejects partitioning an unknown region with a typed 400", async () => {
    const res = await fetch(`${cluster.replicator.url}/admin/partition/mars`, {
      method: "POST",
      headers: AUTH_HEADERS,
    });
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ error: { code: "INVALID_INPUT" } });
  });
});
