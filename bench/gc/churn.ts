// OR-set churn across regions, shared by bench/gc and the tombstone-collection integration test: seeded
// adds and removes at random regions, replication of the published full states with some deliveries held
// back (so stale states arrive late and out of order), and optional collection passes.
import type { ORSet } from "@meridian/core";
import {
  applyRemoteUpdate,
  type CacheUpdate,
  type EventualConsistencyCache,
  entryKey,
  type OrSetCollector,
  type RegionStore,
  readEntry,
} from "@meridian/eventual";
import { mulberry32 } from "../lib/prng.js";

export interface ChurnRegion extends RegionStore {
  cache: EventualConsistencyCache;
  /** What the region's cache published, in order (a recording publisher). */
  published: CacheUpdate[];
}

export interface ChurnOptions {
  rounds: number;
  /** Writes per round, each at a random region on a random key. */
  opsPerRound: number;
  keys: readonly string[];
  /** Distinct elements per key. */
  elements: number;
  seed: number;
  /** Fraction of deliveries held back 1-3 rounds (stale, out of order). */
  holdBack: number;
  /** Run a collection pass every this many rounds (needs `collector`). */
  gcEvery: number;
  collector?: OrSetCollector;
  /** Called after each collection pass (or each gcEvery rounds without a collector). */
  onCheckpoint?: (round: number) => Promise<void>;
}

interface Delivery {
  due: number;
  to: ChurnRegion;
  update: CacheUpdate;
}

/** Runs the churn; every delivery is made by the time it returns. */
export async function churn(regions: readonly ChurnRegion[], o: ChurnOptions): Promise<void> {
  const rand = mulberry32(o.seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;
  const sent = regions.map(() => 0);
  let pending: Delivery[] = [];
  const deliver = async (now: number) => {
    const due = pending.filter((d) => d.due <= now);
    pending = pending.filter((d) => d.due > now);
    for (const d of due)
      await applyRemoteUpdate(d.to.redis, d.to.keyPrefix, d.update, { localRegion: d.to.region });
  };
  for (let round = 1; round <= o.rounds; round++) {
    for (let i = 0; i < o.opsPerRound; i++) {
      const at = pick(regions);
      const op = rand() < 0.5 ? "add" : "remove";
      await at.cache.setWithEventualConsistency(pick(o.keys), {
        op,
        element: `e${Math.floor(rand() * o.elements)}`,
      });
    }
    regions.forEach((from, i) => {
      for (const update of from.published.slice(sent[i])) {
        for (const to of regions) {
          if (to === from) continue;
          const late = rand() < o.holdBack ? 1 + Math.floor(rand() * 3) : 0;
          pending.push({ due: round + late, to, update });
        }
      }
      sent[i] = from.published.length;
    });
    await deliver(round);
    if (o.gcEvery > 0 && round % o.gcEvery === 0) {
      await o.collector?.runOnce();
      await o.onCheckpoint?.(round);
    }
  }
  await deliver(Number.POSITIVE_INFINITY);
}

/** Size of the stored entry (bytes of its JSON) of `key` in `region`. */
export async function entryBytes(region: RegionStore, key: string): Promise<number> {
  return region.redis.hstrlen(entryKey(region.keyPrefix, key), "entry");
}

/** The OR-set value of `key` in every region (sorted JSON text). */
export async function valuesOf(regions: readonly RegionStore[], key: string): Promise<string[]> {
  return Promise.all(
    regions.map(async (r) => {
      const e = await readEntry(r.redis, r.keyPrefix, key);
      return JSON.stringify(((e?.crdt as ORSet<unknown> | undefined)?.value() ?? []).map(String).sort());
    }),
  );
}
