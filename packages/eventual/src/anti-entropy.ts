// Anti-entropy between regions' L2: digest exchange over key buckets, then per-key repair.
//
// Each region's keys are filed in INDEX_BUCKETS index hashes (written by the same CAS that writes the
// entry). A round: (1) every region computes, inside Redis (Lua), one SHA-1 per index bucket over its
// (key, entry digest) pairs — computed from the entries themselves, so a raw DEL of an entry shows up
// even though its index row remains; (2) the index digests are folded into `buckets` exchange digests
// and compared across regions; (3) only in differing buckets are per-key digests fetched and compared;
// (4) a differing key is repaired by folding every region's copy through the same dominance-then-CRDT
// resolution as applyRemoteUpdate and merging the result into each region whose copy differs.
// Buckets found equal everywhere are stamped "verified" in every region; reads use that as freshness.
// With `collectTombstones`, each round then runs one bounded OR-set tombstone collection pass (orset-gc.ts).
import { createHash } from "node:crypto";
import {
  BackendUnavailableError,
  InvalidInputError,
  MeridianError,
  SerializationError,
} from "@meridian/core";
import { LuaScript } from "@meridian/store";
import { digestOf } from "./codec.js";
import { mergeEntry, readEntry } from "./entry-store.js";
import { bucketKey, entryKey, INDEX_BUCKETS, verifiedKey } from "./keys.js";
import { OrSetCollector, type OrSetGcOptions } from "./orset-gc.js";
import { resolveEntries } from "./resolve.js";
import type { RegionStore, StoredEntry } from "./types.js";

export interface AntiEntropyOptions {
  /** Period of start()'s rounds (default 1000 ms). */
  intervalMs?: number;
  /** Digests exchanged per region per round (default 64, at most INDEX_BUCKETS = 256). */
  buckets?: number;
  /** Called with each round's result (metrics); and with errors of background rounds. */
  onRound?: (result: AntiEntropyResult) => void;
  /** Keys repaired at the same time (default 16). */
  repairConcurrency?: number;
  onError?: (err: unknown) => void;
  now?: () => number;
  /** Also collect causally stable OR-set tombstones, one bounded pass per round (default off). */
  collectTombstones?: Omit<OrSetGcOptions, "intervalMs" | "onError" | "now">;
  /**
   * Regions cut off from the others right now (e.g. a network partition). A round repairs among the rest
   * only, stamps nothing as verified and collects no tombstones: neither is true without every region.
   */
  unreachable?: () => readonly string[];
}

export interface AntiEntropyResult {
  /** Keys that differed between regions and were merged into at least one region. */
  repairedKeys: number;
  /** (region, key) merges written. */
  repairs: number;
  /** Exchange buckets compared this round. */
  comparedBuckets: number;
  /** Exchange buckets whose digests differed. */
  differingBuckets: number;
}

// Digest of one index bucket computed where the data is. Entry keys are built from ARGV[1] (the full
// prefix), so this relies on standalone Redis (undeclared keys are refused only in cluster mode).
const BUCKET_DIGEST = new LuaScript(
  "eventualBucketDigest",
  `
local keys = redis.call('HKEYS', KEYS[1])
table.sort(keys)
local parts = {}
for _, k in ipairs(keys) do
  local d = redis.call('HGET', ARGV[1] .. k, 'digest')
  if d then parts[#parts + 1] = k .. '=' .. d end
end
if #parts == 0 then return '' end
return redis.sha1hex(table.concat(parts, '\\n'))
`,
  1,
);

/** Full prefix of entry keys as Redis sees them (ioredis' own keyPrefix is not applied inside Lua). */
function rawEntryPrefix(store: RegionStore): string {
  return `${store.redis.options.keyPrefix ?? ""}${entryKey(store.keyPrefix, "")}`;
}

async function indexDigests(store: RegionStore): Promise<string[]> {
  BUCKET_DIGEST.defineOn(store.redis);
  const pipe = store.redis.pipeline();
  const prefix = rawEntryPrefix(store);
  for (let b = 0; b < INDEX_BUCKETS; b++)
    BUCKET_DIGEST.queue(pipe, [bucketKey(store.keyPrefix, b)], [prefix]);
  const res = (await pipe.exec()) ?? [];
  return res.map(([err, val]) => {
    if (err) throw err;
    return String(val);
  });
}

function foldDigests(index: string[], buckets: number): string[] {
  const out: string[] = [];
  for (let j = 0; j < buckets; j++) {
    const h = createHash("sha1");
    for (let b = j; b < INDEX_BUCKETS; b += buckets) h.update(`${b}:${index[b]}\n`);
    out.push(h.digest("hex"));
  }
  return out;
}

/** key -> entry digest (null when indexed but the entry is gone) for the given index buckets. */
async function keyDigests(store: RegionStore, indexBuckets: number[]): Promise<Map<string, string | null>> {
  const pipe = store.redis.pipeline();
  for (const b of indexBuckets) pipe.hkeys(bucketKey(store.keyPrefix, b));
  const keys = ((await pipe.exec()) ?? []).flatMap(([err, val]) => {
    if (err) throw err;
    return val as string[];
  });
  const out = new Map<string, string | null>();
  if (keys.length === 0) return out;
  const pipe2 = store.redis.pipeline();
  for (const k of keys) pipe2.hget(entryKey(store.keyPrefix, k), "digest");
  const digests = (await pipe2.exec()) ?? [];
  keys.forEach((k, i) => {
    const [err, val] = digests[i]!;
    if (err) throw err;
    out.set(k, (val as string | null) ?? null);
  });
  return out;
}

export class AntiEntropy {
  private readonly intervalMs: number;
  private readonly buckets: number;
  private readonly concurrency: number;
  private timer: NodeJS.Timeout | null = null;
  /** Background health: rounds run, rounds failed, the last failure and the last result. */
  readonly stats: {
    rounds: number;
    failures: number;
    lastError: unknown;
    lastResult: AntiEntropyResult | null;
  } = {
    rounds: 0,
    failures: 0,
    lastError: null,
    lastResult: null,
  };
  private running: Promise<unknown> | null = null;
  /** The tombstone collector run after each round (its `stats` count what it collected), if enabled. */
  readonly collector: OrSetCollector | null;

  constructor(
    readonly regions: RegionStore[],
    readonly opts: AntiEntropyOptions = {},
  ) {
    if (!Array.isArray(regions) || regions.length < 2) {
      throw new InvalidInputError("anti-entropy needs at least two regions", { regions: regions?.length });
    }
    this.intervalMs = opts.intervalMs ?? 1000;
    this.buckets = opts.buckets ?? 64;
    this.concurrency = opts.repairConcurrency ?? 16;
    if (!Number.isInteger(this.buckets) || this.buckets < 1 || this.buckets > INDEX_BUCKETS) {
      throw new InvalidInputError(`buckets must be an integer in 1..${INDEX_BUCKETS}`, {
        buckets: this.buckets,
      });
    }
    if (!(this.intervalMs > 0))
      throw new InvalidInputError("intervalMs must be > 0", { intervalMs: this.intervalMs });
    const gc = opts.collectTombstones;
    this.collector = gc
      ? new OrSetCollector(regions, { ...gc, ...(opts.now ? { now: opts.now } : {}) })
      : null;
  }

  /** One digest exchange and repair round across all regions. */
  async runOnce(): Promise<AntiEntropyResult> {
    try {
      return await this.round();
    } catch (err) {
      if (err instanceof MeridianError) throw err;
      throw new BackendUnavailableError(`anti-entropy round failed: ${(err as Error).message}`, {
        backend: "redis",
      });
    }
  }

  /** The regions a round may read and write now. */
  private reachable(): RegionStore[] {
    const cut = new Set(this.opts.unreachable?.() ?? []);
    return cut.size === 0 ? this.regions : this.regions.filter((r) => !cut.has(r.region));
  }

  private async round(): Promise<AntiEntropyResult> {
    const regions = this.reachable();
    const everyRegion = regions.length === this.regions.length;
    if (regions.length < 2)
      return this.finish({ repairedKeys: 0, repairs: 0, comparedBuckets: 0, differingBuckets: 0 }, false);
    const now = this.opts.now ?? Date.now;
    const startedAt = now();
    const index = await Promise.all(regions.map(indexDigests));
    const folded = index.map((d) => foldDigests(d, this.buckets));
    const differing: number[] = [];
    const equal: number[] = [];
    for (let j = 0; j < this.buckets; j++) {
      (folded.every((f) => f[j] === folded[0]![j]) ? equal : differing).push(j);
    }
    if (everyRegion) await this.stampVerified(equal, startedAt);

    const toRepair: string[] = [];
    for (const j of differing) {
      const indexBuckets: number[] = [];
      for (let b = j; b < INDEX_BUCKETS; b += this.buckets) {
        if (index.some((d) => d[b] !== index[0]![b])) indexBuckets.push(b);
      }
      const perRegion = await Promise.all(regions.map((r) => keyDigests(r, indexBuckets)));
      const allKeys = new Set(perRegion.flatMap((m) => [...m.keys()]));
      for (const key of allKeys) {
        const ds = perRegion.map((m) => m.get(key) ?? null);
        if (!ds.every((d) => d === ds[0])) toRepair.push(key);
      }
    }
    // Repairs are independent per key: run a bounded number at once (each is a few round trips).
    let repairedKeys = 0;
    let repairs = 0;
    let next = 0;
    const worker = async () => {
      while (next < toRepair.length) {
        const n = await this.repairKey(toRepair[next++]!, regions);
        if (n > 0) {
          repairedKeys++;
          repairs += n;
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(this.concurrency, toRepair.length) }, worker));
    const result = {
      repairedKeys,
      repairs,
      comparedBuckets: this.buckets,
      differingBuckets: differing.length,
    };
    return this.finish(result, everyRegion);
  }

  private async finish(result: AntiEntropyResult, everyRegion: boolean): Promise<AntiEntropyResult> {
    this.stats.rounds++;
    this.stats.lastResult = result;
    this.opts.onRound?.(result);
    // After the repairs: keys just repaired are equal everywhere, so their tombstones are stable now.
    if (everyRegion) await this.collectTombstones();
    return result;
  }

  /** Merges the regions' copies of `key` into the one state they all should hold; returns merges written. */
  async repairKey(key: string, regions: readonly RegionStore[] = this.reachable()): Promise<number> {
    // A corrupt copy counts as missing: the merge below overwrites it with the repaired state.
    const copies = await Promise.all(
      regions.map((r) =>
        readEntry(r.redis, r.keyPrefix, key).catch((err: unknown) => {
          if (err instanceof SerializationError) return null;
          throw err;
        }),
      ),
    );
    let target: StoredEntry | null = null;
    const now = (this.opts.now ?? Date.now)();
    for (const c of copies) if (c) target = resolveEntries(target, c, now).entry;
    if (!target) return 0;
    const want = digestOf(target);
    let written = 0;
    for (let i = 0; i < regions.length; i++) {
      const copy = copies[i];
      if (copy && digestOf(copy) === want) continue;
      const r = regions[i]!;
      const res = await mergeEntry(r.redis, r.keyPrefix, key, r.region, target, "anti-entropy");
      if (res.changed) written++;
    }
    return written;
  }

  /** One collection pass; its failure is counted and reported but does not fail the round. */
  private async collectTombstones(): Promise<void> {
    if (!this.collector) return;
    try {
      await this.collector.runOnce();
    } catch (err) {
      this.collector.stats.failures++;
      this.collector.stats.lastError = err;
      this.opts.onError?.(err);
    }
  }

  /** Runs rounds every intervalMs until stop(); a failed round is reported to onError and retried next tick. */
  start(): void {
    if (this.timer) return;
    const tick = async () => {
      try {
        await this.runOnce();
      } catch (err) {
        this.stats.failures++;
        this.stats.lastError = err;
        this.opts.onError?.(err);
      }
    };
    this.timer = setInterval(() => {
      if (this.running) return; // never overlap rounds
      this.running = tick().finally(() => {
        this.running = null;
      });
    }, this.intervalMs);
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.running;
  }

  private async stampVerified(exchangeBuckets: number[], atMs: number): Promise<void> {
    if (exchangeBuckets.length === 0) return;
    const fields: Record<string, number> = {};
    for (const j of exchangeBuckets)
      for (let b = j; b < INDEX_BUCKETS; b += this.buckets) fields[String(b)] = atMs;
    await Promise.all(this.regions.map((r) => r.redis.hset(verifiedKey(r.keyPrefix), fields)));
  }
}

export type { RegionStore };
