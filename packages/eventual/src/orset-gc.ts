// Collection of OR-set tombstones once they are causally stable (every region has seen them).
//
// A pass reads every region's copy of a key, takes the minimum of their entry clocks as the stable
// frontier, folds the copies into one state (as anti-entropy does), drops the tombstones at or below the
// frontier (ORSet.collect) and merges the result into every region through the normal merge path. Why it
// is sound: an OR-set add's tag is a dot <counter>@<node> whose counter is the writer's clock counter of
// that write, assigned in the CAS that stores it; so a copy whose clock has reached `counter` for `node`
// holds that add or its tombstone (the invariant the merge's dominance rule already relies on). Every copy
// has reached the frontier, so the fold holds every dot below it, and a dot missing under the frontier was
// removed — which is how merges treat it, so a stale message carrying the add cannot bring it back.
import {
  BackendUnavailableError,
  InvalidInputError,
  MeridianError,
  type ORSet,
  SerializationError,
} from "@meridian/core";
import { mergeEntry, readEntry } from "./entry-store.js";
import { bucketKey, INDEX_BUCKETS } from "./keys.js";
import { resolveEntries } from "./resolve.js";
import type { RegionStore, StoredEntry } from "./types.js";

/** Clock node a collected state is written under, so it is concurrent with (and merges into) newer copies. */
export const GC_NODE = "~gc";

/** Per node, the lowest counter of all copies: what every region has seen. */
export function stableFrontier(copies: readonly StoredEntry[]): Map<string, number> {
  const nodes = new Set(copies.flatMap((c) => c.clock.nodes()));
  const out = new Map<string, number>();
  for (const node of nodes) {
    const n = Math.min(...copies.map((c) => c.clock.get(node)));
    if (n > 0) out.set(node, n);
  }
  return out;
}

/**
 * The collected state of one key from all regions' copies (null entries = a region without the key), or
 * null when there is nothing to collect: a region lacks the key, it is not an OR-set, or no tombstone is
 * stable yet.
 */
export function collectEntry(
  copies: readonly (StoredEntry | null)[],
  nowMs: number,
): { entry: StoredEntry; tombstones: number } | null {
  const present = copies.filter((c): c is StoredEntry => c !== null);
  if (present.length < copies.length || present.some((c) => c.crdt.type !== "orset")) return null;
  let folded: StoredEntry | null = null;
  for (const c of present) folded = resolveEntries(folded, c, nowMs).entry;
  if (!folded) return null;
  const before = folded.crdt as ORSet<unknown>;
  const after = before.collect(stableFrontier(present));
  if (after === before) return null;
  return {
    entry: { ...folded, crdt: after, clock: folded.clock.increment(GC_NODE), updatedAtMs: nowMs },
    tombstones: before.tagCount().removes - after.tagCount().removes,
  };
}

export interface OrSetGcOptions {
  /** Period of start()'s passes (default 5000 ms). */
  intervalMs?: number;
  /** Index buckets visited per pass, round robin over all INDEX_BUCKETS (default 64). */
  bucketsPerPass?: number;
  /** A pass stops taking buckets once it has looked at this many keys (default 512). */
  maxKeysPerPass?: number;
  /** Keys worth reading (e.g. the OR-set keys of the CRDT policy); default every key. */
  isOrSetKey?: (key: string) => boolean;
  onPass?: (result: OrSetGcResult) => void;
  onError?: (err: unknown) => void;
  now?: () => number;
}

export interface OrSetGcResult {
  keysScanned: number;
  /** Keys whose collected state was written. */
  keysCollected: number;
  /** Tombstoned tags dropped (counted once per key, not per region). */
  tombstonesCollected: number;
}

export class OrSetCollector {
  private readonly intervalMs: number;
  private readonly bucketsPerPass: number;
  private readonly maxKeys: number;
  private cursor = 0;
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<unknown> | null = null;
  /** Counters since construction (metrics). */
  readonly stats = {
    passes: 0,
    failures: 0,
    keysCollected: 0,
    tombstonesCollected: 0,
    lastError: null as unknown,
  };

  constructor(
    readonly regions: RegionStore[],
    readonly opts: OrSetGcOptions = {},
  ) {
    if (!Array.isArray(regions) || regions.length < 2) {
      throw new InvalidInputError("OR-set GC needs at least two regions", { regions: regions?.length });
    }
    this.intervalMs = opts.intervalMs ?? 5000;
    this.bucketsPerPass = opts.bucketsPerPass ?? 64;
    this.maxKeys = opts.maxKeysPerPass ?? 512;
    const okInt = (n: number, max: number) => Number.isInteger(n) && n >= 1 && n <= max;
    if (
      !okInt(this.bucketsPerPass, INDEX_BUCKETS) ||
      !okInt(this.maxKeys, 1_000_000) ||
      !(this.intervalMs > 0)
    ) {
      throw new InvalidInputError("OR-set GC options out of range", {
        bucketsPerPass: this.bucketsPerPass,
        maxKeysPerPass: this.maxKeys,
        intervalMs: this.intervalMs,
      });
    }
  }

  /** One bounded pass over the next index buckets. */
  async runOnce(): Promise<OrSetGcResult> {
    try {
      const result = await this.pass();
      this.stats.passes++;
      this.stats.keysCollected += result.keysCollected;
      this.stats.tombstonesCollected += result.tombstonesCollected;
      this.opts.onPass?.(result);
      return result;
    } catch (err) {
      if (err instanceof MeridianError) throw err;
      throw new BackendUnavailableError(`OR-set GC pass failed: ${(err as Error).message}`, {
        backend: "redis",
      });
    }
  }

  /** Collects one key now (reads all regions, writes the collected state into each). */
  async collectKey(key: string): Promise<number> {
    const copies = await Promise.all(this.regions.map((r) => readEntry(r.redis, r.keyPrefix, key)));
    const res = collectEntry(copies, (this.opts.now ?? Date.now)());
    if (!res) return 0;
    for (const r of this.regions)
      await mergeEntry(r.redis, r.keyPrefix, key, r.region, res.entry, "orset-gc");
    return res.tombstones;
  }

  private async pass(): Promise<OrSetGcResult> {
    const result: OrSetGcResult = { keysScanned: 0, keysCollected: 0, tombstonesCollected: 0 };
    for (let b = 0; b < this.bucketsPerPass && result.keysScanned < this.maxKeys; b++) {
      const bucket = this.cursor;
      this.cursor = (this.cursor + 1) % INDEX_BUCKETS;
      for (const key of await this.bucketKeys(bucket)) {
        result.keysScanned++;
        const dropped = await this.collectKey(key).catch((err: unknown) => {
          if (err instanceof SerializationError) return 0; // a corrupt copy: anti-entropy repairs it first
          throw err;
        });
        if (dropped > 0) {
          result.keysCollected++;
          result.tombstonesCollected += dropped;
        }
      }
    }
    return result;
  }

  private async bucketKeys(bucket: number): Promise<string[]> {
    const lists = await Promise.all(this.regions.map((r) => r.redis.hkeys(bucketKey(r.keyPrefix, bucket))));
    const keys = [...new Set(lists.flat())].sort();
    return this.opts.isOrSetKey ? keys.filter(this.opts.isOrSetKey) : keys;
  }

  /** Runs passes every intervalMs until stop(); a failed pass goes to onError and the next tick retries. */
  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => {
      if (this.running) return; // never overlap passes
      this.running = this.runOnce()
        .catch((err: unknown) => {
          this.stats.failures++;
          this.stats.lastError = err;
          this.opts.onError?.(err);
        })
        .finally(() => {
          this.running = null;
        });
    }, this.intervalMs);
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.running;
  }
}
