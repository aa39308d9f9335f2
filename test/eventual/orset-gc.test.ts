// Tombstone collection on the real Redis: five regions churn adds and removes on a few OR-set keys, with
// stale deliveries; one run collects (OrSetCollector passes), one identical run does not. Sizes are read
// from Redis at every checkpoint; at the end every region of both runs holds the same values.
import type { ORSet } from "@meridian/core";
import { AntiEntropy, OrSetCollector, readEntry } from "@meridian/eventual";
import { afterAll, describe, expect, it } from "vitest";
import { type ChurnRegion, churn, entryBytes, valuesOf } from "../../bench/gc/churn.js";
import { cleanup, makeRegions } from "./support/eventual-env.js";

afterAll(cleanup);

const NAMES = ["us-east", "us-west", "eu-west", "ap-south", "ap-northeast"];
const KEYS = ["watch:a", "watch:b", "watch:c"];
const ELEMENTS = 4;

function churnRegions(label: string): ChurnRegion[] {
  return makeRegions(label, NAMES).map((r) => ({ ...r, published: r.publisher.published }));
}

async function maxEntryBytes(regions: readonly ChurnRegion[]): Promise<number> {
  const sizes = await Promise.all(regions.flatMap((r) => KEYS.map((k) => entryBytes(r, k))));
  return Math.max(...sizes);
}

describe("OR-set tombstone collection under churn", () => {
  it("keeps every key's stored size bounded while values equal a never-collecting run", async () => {
    const gc = churnRegions("gc");
    const ref = churnRegions("ref");
    const collector = new OrSetCollector(gc, {
      bucketsPerPass: 256,
      isOrSetKey: (k) => k.startsWith("watch:"),
    });
    const sizes = { gc: [] as number[], ref: [] as number[] };
    const common = {
      rounds: 48,
      opsPerRound: 6,
      keys: KEYS,
      elements: ELEMENTS,
      seed: 12,
      holdBack: 0.2,
      gcEvery: 4,
    };
    await churn(gc, {
      ...common,
      collector,
      onCheckpoint: async () => void sizes.gc.push(await maxEntryBytes(gc)),
    });
    await churn(ref, { ...common, onCheckpoint: async () => void sizes.ref.push(await maxEntryBytes(ref)) });

    // Same values everywhere, and the same as without collection: nothing resurrected, no add lost.
    for (const key of KEYS) {
      const [mine, theirs] = [await valuesOf(gc, key), await valuesOf(ref, key)];
      expect(new Set([...mine, ...theirs]).size).toBe(1);
    }
    expect(collector.stats.tombstonesCollected).toBeGreaterThan(100);

    // Flat: the late checkpoints are no bigger than the early ones allow; the uncollected run keeps growing.
    const half = sizes.gc.length / 2;
    expect(Math.max(...sizes.gc.slice(half))).toBeLessThanOrEqual(1.5 * Math.max(...sizes.gc.slice(0, half)));
    expect(sizes.ref.at(-1)!).toBeGreaterThan(3 * sizes.gc.at(-1)!);

    // Once all regions have converged, one pass leaves only live tags (at most one per region per element).
    await collector.runOnce();
    for (const r of gc) {
      for (const key of KEYS) {
        const set = (await readEntry(r.redis, r.keyPrefix, key))!.crdt as ORSet<unknown>;
        expect(set.tagCount().removes).toBe(0);
        expect(set.tagCount().adds).toBeLessThanOrEqual(set.value().length * NAMES.length);
      }
    }
    console.info(`OR-set entry bytes per checkpoint: gc ${sizes.gc.join(",")} | none ${sizes.ref.join(",")}`);
  }, 120_000);

  it("runs inside anti-entropy: one round spreads a region's removes and collects them everywhere", async () => {
    const regions = makeRegions("ae", NAMES.slice(0, 3));
    const [home] = regions;
    for (const e of ["x", "y", "z"])
      await home!.cache.setWithEventualConsistency("watch:ae", { op: "add", element: e });
    for (const e of ["x", "y"])
      await home!.cache.setWithEventualConsistency("watch:ae", { op: "remove", element: e });
    const ae = new AntiEntropy(regions, { collectTombstones: { bucketsPerPass: 256 } });
    await ae.runOnce();
    expect(ae.collector?.stats.tombstonesCollected).toBe(2);
    for (const r of regions) {
      const set = (await readEntry(r.redis, r.keyPrefix, "watch:ae"))!.crdt as ORSet<unknown>;
      expect(set.value()).toEqual(["z"]);
      expect(set.tagCount()).toEqual({ adds: 1, removes: 0 });
    }
  });
});
