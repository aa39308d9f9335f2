// Atomic read-merge-write of one region's entries in Redis.
//
// Merges of whole states (remote updates, anti-entropy, read-repair) run as one Lua script per key
// (merge-script.ts): the merge rule executes inside Redis, so a hot key costs no lost races and no
// retries, and many keys go in one pipelined round trip. Local writes, and the rare state the script does
// not reproduce byte for byte, take the optimistic CAS path: read, merge in TypeScript with core's CRDT,
// write with a Lua compare-and-set on a revision (retry on conflict). Not WATCH/MULTI: WATCH is per
// connection, so on a shared ioredis client concurrent callers would clear each other's WATCH and lose
// updates. Both paths commit the entry, its history record and its bucket-index row together or not at all.

import { randomUUID } from "node:crypto";
import {
  BackendUnavailableError,
  InvalidInputError,
  MeridianError,
  SerializationError,
} from "@meridian/core";
import { type LuaArg, LuaScript } from "@meridian/store";
import type { Redis } from "ioredis";
import { decodeEntry, digestOf, encodeEntry, entryFromUpdate, validateKey } from "./codec.js";
import { bucketKey, bucketOf, entryKey, historyKey } from "./keys.js";
import { MERGE_BATCH, MERGES_PER_CALL, queueMergeBatch } from "./merge-batch.js";
import {
  type MergeCall,
  type MergeResult,
  type MergeSettings,
  mergeReply,
  runMergeScript,
} from "./merge-script.js";
import { type Resolution, resolveEntries } from "./resolve.js";
import type { ApplyOutcome, CacheUpdate, StoredEntry, UpdateKind } from "./types.js";

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

/**
 * Lua that runs `one(entry, history, bucket, argIndex)` for each key triple after KEYS[1], each under its
 * own pcall, and returns the replies in order (a failed key's reply: the text of the Redis error).
 */
export function eachKeyLua(argIndex: string): string {
  return `local out = {}
for i = 1, (#KEYS - 1) / 3 do
  local ok, res = pcall(one, KEYS[3 * i - 1], KEYS[3 * i], KEYS[3 * i + 1], ${argIndex})
  if ok then out[i] = res
  elseif type(res) == 'table' then out[i] = tostring(res.err)
  else out[i] = tostring(res) end
end
return out`;
}

/**
 * CAS's compare-and-set for a whole batch of keys in one command, each key decided on its own as CAS
 * decides it (1 written, -1 lost the race, or the text of the Redis error that failed that key alone),
 * the incarnation guard checked once for all (-2, nothing written). KEYS: the incarnation, then entry, history, bucket index per key. ARGV: 1 incarnation ('' =
 * unguarded), 2 history limit, 3 history TTL ms, then per key: expected rev, entry, digest, history record
 * ('' = none), key, own counter, new rev.
 */
const CAS_MANY = new LuaScript<number | (number | string)[]>(
  "eventualCasMany",
  `
if ARGV[1] ~= '' and redis.call('GET', KEYS[1]) ~= ARGV[1] then return -2 end
local limit, ttl = tonumber(ARGV[2]), ARGV[3]
local function one(e, h, b, a)
  if (redis.call('HGET', e, 'rev') or '0') ~= ARGV[a] then return -1 end
  redis.call('HSET', e, 'rev', ARGV[a + 6], 'entry', ARGV[a + 1], 'digest', ARGV[a + 2])
  if ARGV[a + 3] ~= '' then
    redis.call('LPUSH', h, ARGV[a + 3])
    redis.call('LTRIM', h, 0, limit - 1)
    redis.call('PEXPIRE', h, ttl)
  end
  local hwm = redis.call('HGET', b, ARGV[a + 4])
  if (not hwm) or tonumber(ARGV[a + 5]) > tonumber(hwm) then redis.call('HSET', b, ARGV[a + 4], ARGV[a + 5]) end
  return 1
end
${eachKeyLua("7 * i - 3")}
`,
  "variable",
);

/**
 * Every key's rev, entry, syncedAt and bucket high-water, read atomically in one command for the whole
 * batch (N pipelined calls cost N commands to parse and dispatch on both sides).
 * KEYS: N entry hashes, then their N bucket indexes; ARGV: the N keys. Reply: 4 values per key; missing
 * fields come back as false, which Redis replies as nil (so the array has no holes).
 */
const READ_SNAPSHOTS = new LuaScript<(string | null)[]>(
  "eventualReadSnapshots",
  `
local n, out = #ARGV, {}
for i = 1, n do
  local f = redis.call('HMGET', KEYS[i], 'rev', 'entry', 'syncedAt')
  local j = 4 * (i - 1)
  out[j + 1], out[j + 2], out[j + 3] = f[1], f[2], f[3]
  out[j + 4] = redis.call('HGET', KEYS[n + i], ARGV[i])
end
return out
`,
  "variable",
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

/** historyLimit with its default: the one place the default is spelled. */
export const historyLimitOf = (o: HistoryOptions): number => o.historyLimit ?? 20;
/** historyTtlMs with its default (1 h). */
export const historyTtlOf = (o: HistoryOptions): number => o.historyTtlMs ?? 3_600_000;

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
  /** The entry's bytes as stored (what a history record of it holds), null when absent or corrupt. */
  entryText: string | null;
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
  const [snap] = await readSnapshots(redis, prefix, [key]);
  return snap!;
}

/** Snapshots of many keys in one round trip and one script call. */
export async function readSnapshots(
  redis: Redis,
  prefix: string,
  keys: readonly string[],
): Promise<Snapshot[]> {
  if (keys.length === 0) return [];
  const reply = await guard("read", () =>
    READ_SNAPSHOTS.run(
      redis,
      [...keys.map((key) => entryKey(prefix, key)), ...keys.map((key) => bucketKey(prefix, bucketOf(key)))],
      keys,
    ),
  );
  return keys.map((_, i) => {
    const j = 4 * i;
    return toSnapshot([reply[j] ?? null, reply[j + 1] ?? null, reply[j + 2] ?? null], reply[j + 3] ?? null);
  });
}

function toSnapshot(fields: (string | null)[], hwm: string | null): Snapshot {
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
    entryText: entry ? entryText! : null,
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
  for (let attempt = 0; attempt < 100; attempt++) {
    const snap = await readSnapshot(redis, prefix, key);
    const { step, result } = compute(snap);
    if (!step) return { result, written: null };
    const rev = await guard("write", () =>
      CAS.run(
        redis,
        writeKeys(prefix, key, incarnation),
        casArgs(key, region, snap, step, opts, incarnation),
      ),
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

/** What the CAS scripts write for one key: `step` over `snap`. */
interface CasWrite {
  rev: string;
  entry: string;
  digest: string;
  /** The history record of the overridden state, '' for none. */
  history: string;
  key: string;
  ownCounter: number;
  newRev: string;
}

function casWrite(
  key: string,
  region: string,
  snap: Snapshot,
  step: CasStep,
  opts: HistoryOptions,
): CasWrite {
  const now = opts.now ?? Date.now;
  const history =
    step.historyCause && snap.entryText !== null && historyLimitOf(opts) > 0
      ? historyText(snap.entryText, step.entry, now(), step.historyCause)
      : "";
  return {
    rev: snap.rev,
    entry: encodeEntry(step.entry),
    digest: digestOf(step.entry),
    history,
    key,
    ownCounter: step.entry.clock.get(region),
    // A random revision, not a counter: a counter restarts after a raw DEL, so a writer holding the
    // old number could overwrite a recreated entry it never saw (ABA).
    newRev: randomUUID(),
  };
}

/** ARGV of the CAS script writing `step` over `snap`. */
function casArgs(
  key: string,
  region: string,
  snap: Snapshot,
  step: CasStep,
  opts: HistoryOptions,
  incarnation?: IncarnationGuard,
): LuaArg[] {
  const w = casWrite(key, region, snap, step, opts);
  return [
    w.rev,
    w.entry,
    w.digest,
    w.history,
    historyLimitOf(opts),
    historyTtlOf(opts),
    w.key,
    w.ownCounter,
    w.newRev,
    incarnation?.value ?? "",
  ];
}

/** KEYS and ARGV of CAS_MANY writing `writes`. */
function casManyCall(
  prefix: string,
  writes: readonly CasWrite[],
  opts: HistoryOptions,
  incarnation?: IncarnationGuard,
): { keys: string[]; args: LuaArg[] } {
  const keys = [incarnation?.key ?? entryKey(prefix, writes[0]!.key)];
  const args: LuaArg[] = [incarnation?.value ?? "", historyLimitOf(opts), historyTtlOf(opts)];
  for (const w of writes) {
    keys.push(entryKey(prefix, w.key), historyKey(prefix, w.key), bucketKey(prefix, bucketOf(w.key)));
    args.push(w.rev, w.entry, w.digest, w.history, w.key, w.ownCounter, w.newRev);
  }
  return { keys, args };
}

/**
 * The HistoryRecord JSON of the stored entry `beforeText` overridden by `after`. Spliced from the stored
 * bytes (what encodeEntry wrote, or the merge script spliced) rather than decoded and encoded again.
 */
function historyText(beforeText: string, after: StoredEntry, atMs: number, cause: string): string {
  const rest = JSON.stringify({ afterClock: after.clock.toJSON(), overriddenAtMs: atMs, cause });
  return `{"before":${beforeText},${rest.slice(1)}`;
}

/** One key's outcome of casUpdateMany: the entry written, or why not. */
export type CasOutcome = { written: StoredEntry } | { error: unknown };

/**
 * casUpdate for many keys in two round trips of one script call each: every snapshot, then every CAS.
 * A key whose CAS lost a race is redone alone by casUpdate (which retries); a key whose compute throws,
 * or whose command failed, fails alone (IncarnationChangedError when its incarnation is gone).
 */
export async function casUpdateMany(
  redis: Redis,
  prefix: string,
  keys: readonly string[],
  region: string,
  compute: (key: string, snap: Snapshot) => CasStep,
  opts: HistoryOptions = {},
  incarnation?: IncarnationGuard,
): Promise<Map<string, CasOutcome>> {
  const out = new Map<string, CasOutcome>();
  let snaps: Snapshot[];
  try {
    snaps = await readSnapshots(redis, prefix, keys);
  } catch (error) {
    for (const key of keys) out.set(key, { error });
    return out;
  }
  const queued: { key: string; step: CasStep; write: CasWrite }[] = [];
  keys.forEach((key, i) => {
    try {
      const step = compute(key, snaps[i]!);
      queued.push({ key, step, write: casWrite(key, region, snaps[i]!, step, opts) });
    } catch (error) {
      out.set(key, { error });
    }
  });
  if (queued.length === 0) return out;
  let replies: number | (number | string)[];
  try {
    const call = casManyCall(
      prefix,
      queued.map((q) => q.write),
      opts,
      incarnation,
    );
    replies = await guard("write", () => CAS_MANY.run(redis, call.keys, call.args));
  } catch (error) {
    for (const { key } of queued) out.set(key, { error });
    return out;
  }
  const lost: string[] = [];
  queued.forEach(({ key, step }, i) => {
    const rev = typeof replies === "number" ? replies : replies[i];
    if (typeof rev === "string")
      out.set(key, {
        error: new BackendUnavailableError(`Redis failed during write: ${rev}`, { backend: "redis" }),
      });
    else if (rev === -2) out.set(key, { error: new IncarnationChangedError() });
    else if (rev === -1) lost.push(key);
    else out.set(key, { written: step.entry });
  });
  await Promise.all(
    lost.map(async (key) => {
      try {
        const compute1 = (snap: Snapshot) => ({ step: compute(key, snap), result: null });
        const { written } = await casUpdate(redis, prefix, key, region, compute1, opts, incarnation);
        out.set(key, { written: written! });
      } catch (error) {
        out.set(key, { error });
      }
    }),
  );
  return out;
}

/** The CAS way of mergeEntry: read, resolveEntries in TypeScript, compare-and-set (retries on a lost race). */
export async function mergeEntryCas(
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

function mergeSettings(region: string, opts: HistoryOptions): MergeSettings {
  return {
    region,
    nowMs: (opts.now ?? Date.now)(),
    historyLimit: historyLimitOf(opts),
    historyTtlMs: historyTtlOf(opts),
  };
}

/**
 * Merges a whole entry (from an update, a peer region or anti-entropy) into this region's copy: one Lua
 * script does the merge rule in Redis (no lost races, no retries); a state the script does not reproduce
 * byte for byte goes the CAS way. Both write identical bytes.
 */
export async function mergeEntry(
  redis: Redis,
  prefix: string,
  key: string,
  region: string,
  remote: StoredEntry,
  cause: string,
  opts: HistoryOptions = {},
): Promise<MergeResult> {
  const call = { key, remote, cause };
  const done = await guard("merge", () => runMergeScript(redis, prefix, call, mergeSettings(region, opts)));
  if (done) return done;
  const res = await mergeEntryCas(redis, prefix, key, region, remote, cause, opts);
  return { outcome: res.outcome, changed: res.changed };
}

/**
 * Many merges in one round trip (merge-batch.ts: the per-key script run for up to 128 keys per call). Results in call order; a call the
 * script declined is redone the CAS way; a call whose own input is bad gets its error in its slot.
 * Throws BackendUnavailableError when Redis failed (then any subset of the calls may have been applied,
 * each atomically: applying them again is harmless).
 */
export async function mergeEntries(
  redis: Redis,
  prefix: string,
  region: string,
  calls: readonly MergeCall[],
  opts: HistoryOptions = {},
): Promise<Array<MergeResult | Error>> {
  if (calls.length === 0) return [];
  const settings = mergeSettings(region, opts);
  MERGE_BATCH.defineOn(redis);
  const replies = await guard("merge batch", async () => {
    const pipeline = redis.pipeline();
    for (let i = 0; i < calls.length; i += MERGES_PER_CALL)
      queueMergeBatch(pipeline, prefix, calls.slice(i, i + MERGES_PER_CALL), settings);
    const res = await pipeline.exec();
    if (!res) throw new Error("pipeline aborted");
    const flat: string[] = [];
    for (const [err, reply] of res) {
      if (err) throw err;
      flat.push(...(reply as string[]));
    }
    const failed = flat.find((r) => r.startsWith("error:"));
    if (failed !== undefined) throw new Error(failed.slice("error:".length));
    return flat;
  });
  const out: Array<MergeResult | Error> = [];
  for (let i = 0; i < calls.length; i++) {
    const call = calls[i]!;
    try {
      const done = mergeReply(call, replies[i]);
      if (done) out.push(done);
      else {
        const res = await mergeEntryCas(redis, prefix, call.key, region, call.remote, call.cause, opts);
        out.push({ outcome: res.outcome, changed: res.changed });
      }
    } catch (err) {
      if (err instanceof BackendUnavailableError) throw err;
      out.push(err as Error);
    }
  }
  return out;
}

/** Region id a key prefix belongs to is unknown to the free function; own counters are then not tracked. */
const NO_REGION = "\u0000";

/** An update already decoded and validated (entryFromUpdate). */
export interface RemoteEntry {
  key: string;
  kind: UpdateKind;
  entry: StoredEntry;
}

function remoteCall({ key, kind, entry }: RemoteEntry): MergeCall {
  if (kind === "INVALIDATE") {
    throw new InvalidInputError("INVALIDATE is not an eventual-consistency update", { key });
  }
  return { key, remote: entry, cause: `remote:${kind}` };
}

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
  const { key, remote, cause } = remoteCall(entryFromUpdate(update, (opts.now ?? Date.now)()));
  const res = await mergeEntry(redis, keyPrefix, key, opts.localRegion ?? NO_REGION, remote, cause, opts);
  return res.outcome;
}

/**
 * applyRemoteUpdate for many updates in one pipelined round trip. Per update, in order: its outcome, or
 * the InvalidInputError that refused it (nothing of it written). Updates of one key are applied in the
 * given order. BackendUnavailableError when Redis failed.
 */
export async function applyRemoteUpdates(
  redis: Redis,
  keyPrefix: string,
  updates: readonly CacheUpdate[],
  opts: HistoryOptions & { localRegion?: string } = {},
): Promise<Array<ApplyOutcome | Error>> {
  const nowMs = (opts.now ?? Date.now)();
  const decoded = updates.map((u) => {
    try {
      return entryFromUpdate(u, nowMs);
    } catch (err) {
      return err as Error;
    }
  });
  return applyRemoteEntries(redis, keyPrefix, decoded, opts);
}

/**
 * applyRemoteUpdates for updates already decoded (a consumer validates each record once, on receipt);
 * an Error in the input is answered in its slot.
 */
export async function applyRemoteEntries(
  redis: Redis,
  keyPrefix: string,
  items: ReadonlyArray<RemoteEntry | Error>,
  opts: HistoryOptions & { localRegion?: string } = {},
): Promise<Array<ApplyOutcome | Error>> {
  const calls: MergeCall[] = [];
  const slots: Array<number | Error> = items.map((item) => {
    if (item instanceof Error) return item;
    try {
      calls.push(remoteCall(item));
      return calls.length - 1;
    } catch (err) {
      return err as Error;
    }
  });
  const results = await mergeEntries(redis, keyPrefix, opts.localRegion ?? NO_REGION, calls, opts);
  return slots.map((slot) => {
    if (slot instanceof Error) return slot;
    const r = results[slot]!;
    return r instanceof Error ? r : r.outcome;
  });
}

/** This region's copy of `key`, or null. SerializationError if the stored bytes are not an entry. */
export async function readEntry(redis: Redis, keyPrefix: string, key: string): Promise<StoredEntry | null> {
  const snap = await readSnapshot(redis, keyPrefix, validateKey(key));
  if (snap.corrupt) throw new SerializationError("stored eventual entry is corrupt", { key });
  return snap.entry;
}

/** Keys per snapshot script call of readEntries: one call stays short inside Redis. */
const READ_CHUNK = 256;

/**
 * This region's copies of many keys (null where absent), in call order: one script call per 256 keys
 * instead of one per key. SerializationError if a stored entry is corrupt.
 */
export async function readEntries(
  redis: Redis,
  keyPrefix: string,
  keys: readonly string[],
): Promise<Array<StoredEntry | null>> {
  const out: Array<StoredEntry | null> = [];
  for (let i = 0; i < keys.length; i += READ_CHUNK) {
    const chunk = keys.slice(i, i + READ_CHUNK).map(validateKey);
    for (const [j, snap] of (await readSnapshots(redis, keyPrefix, chunk)).entries()) {
      if (snap.corrupt) throw new SerializationError("stored eventual entry is corrupt", { key: chunk[j] });
      out.push(snap.entry);
    }
  }
  return out;
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
