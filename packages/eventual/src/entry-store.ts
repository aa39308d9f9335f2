// Atomic read-merge-write of one region's entries in Redis.
//
// Why optimistic CAS (read, merge in TypeScript, write with a Lua compare-and-set on a revision) rather
// than merging inside Lua: the CRDT merge stays core's one implementation (no second copy in Lua that
// could drift from it) — except local PN-counter increments, whose contention on hot keys made retries
// the bottleneck (counter-merge.ts, checked byte for byte against this path) — and rather than WATCH/MULTI because WATCH is per connection: on a shared ioredis
// client concurrent callers would clear each other's WATCH and lose updates. The Lua script commits the
// entry, its history record and its bucket-index row together, or nothing if the revision moved.

import { randomUUID } from "node:crypto";
import {
  BackendUnavailableError,
  InvalidInputError,
  MeridianError,
  SerializationError,
} from "@meridian/core";
import { LuaScript } from "@meridian/store";
import type { Redis } from "ioredis";
import { decodeEntry, digestOf, encodeEntry, entryFromUpdate, validateKey } from "./codec.js";
import { bucketKey, bucketOf, entryKey, historyKey } from "./keys.js";
import { type Resolution, resolveEntries } from "./resolve.js";
import type { ApplyOutcome, CacheUpdate, StoredEntry } from "./types.js";

// KEYS[4]/ARGV[10]: the writer-incarnation guard of a local write. The write's vector-clock counter was
// chosen under that incarnation; if this Redis has lost it (restart, flush) the write must be recomputed
// under a new incarnation rather than reuse counters of the old one (-2). ARGV[10] = '' skips the guard.
const CAS = new LuaScript<number>(
  "eventualCas",
  `
if ARGV[10] ~= '' and redis.call('GET', KEYS[4]) ~= ARGV[10] then return -2 end
local rev = redis.call('HGET', KEYS[1], 'rev') or '0'
if rev ~= ARGV[1] then return -1 end
redis.call('HSET', KEYS[1], 'rev', ARGV[9], 'entry', ARGV[2], 'digest', ARGV[3])
if ARGV[4] ~= '' then
  redis.call('LPUSH', KEYS[2], ARGV[4])
  redis.call('LTRIM', KEYS[2], 0, tonumber(ARGV[5]) - 1)
  redis.call('PEXPIRE', KEYS[2], ARGV[6])
end
local hwm = redis.call('HGET', KEYS[3], ARGV[7])
if (not hwm) or tonumber(ARGV[8]) > tonumber(hwm) then redis.call('HSET', KEYS[3], ARGV[7], ARGV[8]) end
return 1
`,
  4,
);

/** HSET only on an existing entry: a hash holding just `syncedAt` would look like an empty entry. */
const MARK_SYNCED = new LuaScript(
  "eventualMarkSynced",
  "if redis.call('EXISTS', KEYS[1]) == 1 then redis.call('HSET', KEYS[1], 'syncedAt', ARGV[1]) end return 1",
  1,
);

export interface HistoryOptions {
  /** Overridden states kept per key (default 20). */
  historyLimit?: number;
  /** How long the history of a key lives after its last override (default 1 h). */
  historyTtlMs?: number;
  now?: () => number;
}

export interface HistoryRecord {
  /** The state that was overridden. */
  before: StoredEntry;
  /** Clock of the state that replaced it. */
  afterClock: Record<string, number>;
  overriddenAtMs: number;
  /** What overrode it: a local write, a remote/anti-entropy merge, or a rollback. */
  cause: string;
}

/** Current copy of a key plus what the CAS needs. */
export interface Snapshot {
  rev: string;
  entry: StoredEntry | null;
  /** Highest counter this region ever used for the key; survives deletion of the entry. */
  ownHighWater: number;
  syncedAtMs: number | null;
  /** The stored entry could not be decoded (treated as absent by merges, an error for reads). */
  corrupt: boolean;
}

/** Runs a Redis call; a failure that is not already typed becomes BackendUnavailableError. */
export async function guard<T>(what: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof MeridianError) throw err;
    throw new BackendUnavailableError(`Redis failed during ${what}: ${(err as Error).message}`, {
      backend: "redis",
    });
  }
}

export async function readSnapshot(redis: Redis, prefix: string, key: string): Promise<Snapshot> {
  const [fields, hwm] = await guard("read", async () => {
    const res = await redis
      .multi()
      .hmget(entryKey(prefix, key), "rev", "entry", "syncedAt")
      .hget(bucketKey(prefix, bucketOf(key)), key)
      .exec();
    if (!res) throw new Error("transaction aborted");
    for (const [err] of res) if (err) throw err;
    return [res[0]![1] as (string | null)[], res[1]![1] as string | null];
  });
  const [rev, entryText, synced] = fields;
  let entry: StoredEntry | null = null;
  let corrupt = false;
  if (entryText) {
    try {
      entry = decodeEntry(entryText);
    } catch {
      // Unreadable bytes in our own hash (someone else wrote there). Merges overwrite them (the repair);
      // reads report SerializationError instead of pretending the key is absent.
      corrupt = true;
    }
  }
  return {
    rev: rev ?? "0",
    entry,
    corrupt,
    ownHighWater: hwm ? Number(hwm) : 0,
    syncedAtMs: synced ? Number(synced) : null,
  };
}

/** The incarnation a local write's counters belong to: the write only lands while Redis still holds it. */
export interface IncarnationGuard {
  key: string;
  value: string;
}

/** The guarded incarnation is gone from Redis (it lost its data): recompute under a new one. */
export class IncarnationChangedError extends Error {
  constructor() {
    super("the writer incarnation changed in Redis (data lost); the write is recomputed");
  }
}

/** KEYS of a local write script: entry, history, bucket index, incarnation (the entry when unguarded). */
export function writeKeys(prefix: string, key: string, incarnation?: IncarnationGuard): string[] {
  return [
    entryKey(prefix, key),
    historyKey(prefix, key),
    bucketKey(prefix, bucketOf(key)),
    incarnation?.key ?? entryKey(prefix, key),
  ];
}

export interface CasStep {
  entry: StoredEntry;
  /** Record `current` as overridden (for rollback), with this cause. */
  historyCause?: string;
}

/**
 * Read-compute-CAS loop. `compute` sees the current snapshot and returns the new entry, or null for
 * "nothing to write". Retries when another writer moved the revision in between.
 */
export async function casUpdate<T>(
  redis: Redis,
  prefix: string,
  key: string,
  region: string,
  compute: (snap: Snapshot) => { step: CasStep | null; result: T },
  opts: HistoryOptions = {},
  incarnation?: IncarnationGuard,
): Promise<{ result: T; written: StoredEntry | null }> {
  const now = opts.now ?? Date.now;
  for (let attempt = 0; attempt < 100; attempt++) {
    const snap = await readSnapshot(redis, prefix, key);
    const { step, result } = compute(snap);
    if (!step) return { result, written: null };
    const history =
      step.historyCause && snap.entry && (opts.historyLimit ?? 20) > 0
        ? JSON.stringify({
            before: JSON.parse(encodeEntry(snap.entry)),
            afterClock: step.entry.clock.toJSON(),
            overriddenAtMs: now(),
            cause: step.historyCause,
          })
        : "";
    const rev = await guard("write", () =>
      CAS.run(redis, writeKeys(prefix, key, incarnation), [
        snap.rev,
        encodeEntry(step.entry),
        digestOf(step.entry),
        history,
        opts.historyLimit ?? 20,
        opts.historyTtlMs ?? 3_600_000,
        key,
        step.entry.clock.get(region),
        // A random revision, not a counter: a counter restarts after a raw DEL, so a writer holding the
        // old number could overwrite a recreated entry it never saw (ABA).
        randomUUID(),
        incarnation?.value ?? "",
      ]),
    );
    if (rev === -2) throw new IncarnationChangedError();
    if (rev !== -1) return { result, written: step.entry };
    // Lost the race: back off a little (grows with contention) and recompute from the new state.
    if (attempt > 2) await new Promise((r) => setTimeout(r, Math.random() * Math.min(50, attempt * 2)));
  }
  throw new BackendUnavailableError("eventual CAS did not settle after 100 attempts (extreme contention)", {
    key,
  });
}

/** Merges a whole entry (from an update, a peer region or anti-entropy) into this region's copy. */
export async function mergeEntry(
  redis: Redis,
  prefix: string,
  key: string,
  region: string,
  remote: StoredEntry,
  cause: string,
  opts: HistoryOptions = {},
): Promise<Resolution> {
  const now = opts.now ?? Date.now;
  const { result } = await casUpdate(
    redis,
    prefix,
    key,
    region,
    (snap) => {
      const res = resolveEntries(snap.entry, remote, now());
      return { step: res.changed ? { entry: res.entry, historyCause: cause } : null, result: res };
    },
    opts,
  );
  return result;
}

/** Region id a key prefix belongs to is unknown to the free function; own counters are then not tracked. */
const NO_REGION = "\u0000";

/**
 * Merges `update` into the copy under `keyPrefix` atomically: a dominated or equal update changes nothing
 * (so replays are no-ops), a dominating one replaces the copy, a concurrent one is CRDT-merged. What a
 * change overrides is kept for rollback. InvalidInputError (nothing written) for a malformed update, a
 * CRDT type that differs from the stored one, or kind INVALIDATE (eventual entries are merged, never dropped).
 */
export async function applyRemoteUpdate(
  redis: Redis,
  keyPrefix: string,
  update: CacheUpdate,
  opts: HistoryOptions & { localRegion?: string } = {},
): Promise<ApplyOutcome> {
  const now = opts.now ?? Date.now;
  const { key, kind, entry } = entryFromUpdate(update, now());
  if (kind === "INVALIDATE") {
    throw new InvalidInputError("INVALIDATE is not an eventual-consistency update", { key });
  }
  const res = await mergeEntry(
    redis,
    keyPrefix,
    key,
    opts.localRegion ?? NO_REGION,
    entry,
    `remote:${kind}`,
    opts,
  );
  return res.outcome;
}

/** This region's copy of `key`, or null. SerializationError if the stored bytes are not an entry. */
export async function readEntry(redis: Redis, keyPrefix: string, key: string): Promise<StoredEntry | null> {
  const snap = await readSnapshot(redis, keyPrefix, validateKey(key));
  if (snap.corrupt) throw new SerializationError("stored eventual entry is corrupt", { key });
  return snap.entry;
}

/** Overridden states of `key` still inside the rollback window, newest first. */
export async function readHistory(redis: Redis, keyPrefix: string, key: string): Promise<HistoryRecord[]> {
  const items = await guard("history read", () => redis.lrange(historyKey(keyPrefix, key), 0, -1));
  return items.map((text) => {
    const j = JSON.parse(text) as Omit<HistoryRecord, "before"> & { before: unknown };
    return { ...j, before: decodeEntry(JSON.stringify(j.before)) };
  });
}

/** Marks the copy as verified fresh at `atMs` (read-repair), without changing its revision. */
export async function markSynced(redis: Redis, keyPrefix: string, key: string, atMs: number): Promise<void> {
  await guard("mark synced", () => MARK_SYNCED.run(redis, [entryKey(keyPrefix, key)], [atMs]));
}
