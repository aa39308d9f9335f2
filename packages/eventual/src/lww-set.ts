// Local LWW `set`s of a batch written by one script call, no snapshot read first: the script reads each
// key's entry, raises this writer's clock counter above the stored one and the bucket high-water, moves
// the HLC timestamp past the stored one, and writes entry, digest, history record and high-water
// together, as the CAS path would. Halves the batch's Redis round trips and skips the TypeScript
// decode/merge/encode of every stored entry.
//
// Byte for byte what the CAS path writes for the same timestamp: the value's JSON texts are made here
// (as the LWW register's toJSON makes them) and spliced; the script only formats integers and ASCII
// names. Anything else (another CRDT type, a corrupt or foreign entry, non-ASCII node ids, a stored
// register timestamp ahead of the entry's) it hands back ('F') to the CAS path.
import { randomUUID } from "node:crypto";
import {
  BackendUnavailableError,
  canonicalJson,
  type HlcTimestamp,
  LWWRegister,
  VectorClock,
} from "@meridian/core";
import { type LuaArg, LuaScript } from "@meridian/store";
import type { Redis } from "ioredis";
import { primeStateText } from "./codec.js";
import { LUA_ENTRY_HELPERS } from "./counter-merge.js";
import {
  eachKeyLua,
  guard,
  type HistoryOptions,
  historyLimitOf,
  historyTtlOf,
  type IncarnationGuard,
} from "./entry-store.js";
import { bucketKey, bucketOf, entryKey, historyKey } from "./keys.js";
import type { StoredEntry } from "./types.js";

const INCARNATION_GONE = -2;
const FALLBACK = "F";
const ARGS_PER_KEY = 7;
/** Keys per script call: one call stays short inside Redis, which serves nobody else meanwhile. */
const SETS_PER_CALL = 256;

// KEYS: the incarnation, then entry, history, bucket index per key.
// ARGV: 1 incarnation ('' = unguarded), 2 history limit, 3 history TTL ms, 4 writer node, 5 region,
// 6 updatedAtMs, 7 overriddenAtMs, then per key: key, value JSON, canonical value JSON, candidate
// ts.wallMs, ts.logical, ts.node, new revision.
// Reply: -2 (incarnation gone, nothing written), else per key {wallMs, logical, node, clock JSON},
// 'F' (take the CAS path) or the text of the Redis error that failed that key alone.
const LWW_SET_MANY = new LuaScript<number | (string | string[])[]>(
  "eventualLwwSetMany",
  `
if ARGV[1] ~= '' and redis.call('GET', KEYS[1]) ~= ARGV[1] then return ${INCARNATION_GONE} end
${LUA_ENTRY_HELPERS}
local limit, ttl, node, region, now, at = tonumber(ARGV[2]), ARGV[3], ARGV[4], ARGV[5], ARGV[6], ARGV[7]
local function after(w1, l1, n1, t) -- (w1, l1, n1) later than HLC table t
  if w1 ~= t.wallMs then return w1 > t.wallMs end
  if l1 ~= t.logical then return l1 > t.logical end
  return n1 > t.node
end
local function hlcOk(t) return type(t) == 'table' and int(t.wallMs) and int(t.logical) and name(t.node) end
local function one(e, h, b, a)
  local wall, logical, tsNode = tonumber(ARGV[a + 3]), tonumber(ARGV[a + 4]), ARGV[a + 5]
  if not name(tsNode) or not name(node) or not name(region) then return '${FALLBACK}' end
  local text = redis.call('HGET', e, 'entry')
  local clock = {}
  if text then
    local ok, x = pcall(cjson.decode, text)
    if not ok or type(x) ~= 'table' or type(x.crdt) ~= 'table' or x.crdt.type ~= 'lww' then return '${FALLBACK}' end
    clock = counts(x.clock)
    local st = x.crdt.state
    if not clock or not hlcOk(x.hlc) or not name(x.region) then return '${FALLBACK}' end
    if not after(wall, logical, tsNode, x.hlc) then
      wall, logical, tsNode = x.hlc.wallMs, x.hlc.logical + 1, region
    end
    if st ~= cjson.null and (type(st) ~= 'table' or st.value == nil or not hlcOk(st.ts)
      or not after(wall, logical, tsNode, st.ts)) then return '${FALLBACK}' end
    for k, v in pairs(clock) do if v == 0 then clock[k] = nil end end
  end
  local hwm = tonumber(redis.call('HGET', b, ARGV[a]) or '0')
  local own = math.max(clock[node] or 0, hwm) + 1
  clock[node] = own
  local W, L, N = num(wall), num(logical), str(tsNode)
  local ts = '{"wallMs":' .. W .. ',"logical":' .. L .. ',"node":' .. N .. '}'
  local clockJson = obj(clock)
  local entry = '{"crdt":{"type":"lww","state":{"value":' .. ARGV[a + 1] .. ',"ts":' .. ts .. '}},"clock":'
    .. clockJson .. ',"hlc":' .. ts .. ',"region":' .. str(region) .. ',"updatedAtMs":' .. now .. '}'
  local digest = redis.sha1hex('lww|' .. clockText(clock) .. '|{"state":{"ts":{"logical":' .. L .. ',"node":'
    .. N .. ',"wallMs":' .. W .. '},"value":' .. ARGV[a + 2] .. '},"type":"lww"}')
  redis.call('HSET', e, 'rev', ARGV[a + 6], 'entry', entry, 'digest', digest)
  if text and limit > 0 then
    redis.call('LPUSH', h, '{"before":' .. text .. ',"afterClock":' .. clockJson .. ',"overriddenAtMs":' .. at
      .. ',"cause":"local-write"}')
    redis.call('LTRIM', h, 0, limit - 1)
    redis.call('PEXPIRE', h, ttl)
  end
  redis.call('HSET', b, ARGV[a], num(own))
  return { W, L, tsNode, clockJson }
end
${eachKeyLua(`8 + ${ARGS_PER_KEY} * (i - 1)`)}
`,
  "variable",
);

export interface LwwSet {
  key: string;
  value: unknown;
  /** Candidate HLC timestamp; the script moves it past the stored one when it is not newer. */
  ts: HlcTimestamp;
}

export interface LwwSetContext {
  /** Writer node (the region's current incarnation): whose clock counter moves. */
  node: string;
  /** Region recorded as the entry's newest writer (and the node of a timestamp moved past the stored one). */
  region: string;
  history: HistoryOptions;
  /** updatedAtMs of the written entries. */
  nowMs: number;
  incarnation?: IncarnationGuard;
}

/**
 * Per set: the entry written, `fallback` (the CAS path must write it), `redo` (its call met a lost
 * incarnation and wrote nothing), or the error that failed it.
 */
export type LwwSetOutcome =
  | { written: StoredEntry }
  | { fallback: true }
  | { redo: true }
  | { error: unknown };

interface Prepared {
  set: LwwSet;
  parsed: unknown;
  valueText: string;
  canonical: string;
}

/** The value's texts as the LWW register's toJSON gives them (its canonical JSON, parsed again). */
function prepare(set: LwwSet): Prepared {
  const parsed: unknown = JSON.parse(canonicalJson(set.value));
  return { set, parsed, valueText: JSON.stringify(parsed), canonical: canonicalJson(parsed) };
}

function callOf(prefix: string, ctx: LwwSetContext, sets: readonly Prepared[]) {
  const keys = [ctx.incarnation?.key ?? entryKey(prefix, sets[0]!.set.key)];
  const h = ctx.history;
  const args: LuaArg[] = [
    ctx.incarnation?.value ?? "",
    historyLimitOf(h),
    historyTtlOf(h),
    ctx.node,
    ctx.region,
    ctx.nowMs,
    (h.now ?? Date.now)(),
  ];
  for (const { set, valueText, canonical } of sets) {
    keys.push(entryKey(prefix, set.key), historyKey(prefix, set.key), bucketKey(prefix, bucketOf(set.key)));
    args.push(set.key, valueText, canonical, set.ts.wallMs, set.ts.logical, set.ts.node, randomUUID());
  }
  return { keys, args };
}

/** The StoredEntry the script wrote, its state text primed with the bytes the script spliced. */
function entryOf(p: Prepared, reply: string[], ctx: LwwSetContext): StoredEntry {
  const [wall, logical, node, clockJson] = reply as [string, string, string, string];
  const ts = { wallMs: Number(wall), logical: Number(logical), node };
  const crdt = LWWRegister.empty<unknown>().set(p.parsed, ts);
  primeStateText(crdt, `{"type":"lww","state":{"value":${p.valueText},"ts":${JSON.stringify(ts)}}}`);
  return {
    crdt,
    clock: VectorClock.from(JSON.parse(clockJson) as Record<string, number>),
    hlc: ts,
    region: ctx.region,
    updatedAtMs: ctx.nowMs,
  };
}

/**
 * Writes `sets` (one per key) in Redis, SETS_PER_CALL keys per script call, all calls sent at once.
 * Throws BackendUnavailableError when Redis failed a call.
 */
export async function lwwSetMany(
  redis: Redis,
  prefix: string,
  sets: readonly LwwSet[],
  ctx: LwwSetContext,
): Promise<LwwSetOutcome[]> {
  const prepared: (Prepared | { error: unknown })[] = sets.map((s) => {
    try {
      return prepare(s);
    } catch (error) {
      return { error };
    }
  });
  const ok = prepared.filter((p): p is Prepared => !("error" in p));
  const chunks: Prepared[][] = [];
  for (let i = 0; i < ok.length; i += SETS_PER_CALL) chunks.push(ok.slice(i, i + SETS_PER_CALL));
  const replies = await guard("LWW set", () =>
    Promise.all(
      chunks.map((chunk) => {
        const call = callOf(prefix, ctx, chunk);
        return LWW_SET_MANY.run(redis, call.keys, call.args);
      }),
    ),
  );
  const byPrepared = new Map<Prepared, string | string[] | number>();
  chunks.forEach((chunk, c) => {
    const reply = replies[c]!;
    chunk.forEach((p, i) => {
      byPrepared.set(p, typeof reply === "number" ? reply : reply[i]!);
    });
  });
  return prepared.map((p): LwwSetOutcome => {
    if ("error" in p) return { error: p.error };
    const reply = byPrepared.get(p)!;
    if (reply === INCARNATION_GONE) return { redo: true };
    if (reply === FALLBACK) return { fallback: true };
    if (typeof reply !== "object") {
      return {
        error: new BackendUnavailableError(`Redis failed during LWW set: ${reply}`, { backend: "redis" }),
      };
    }
    return { written: entryOf(p, reply, ctx) };
  });
}
