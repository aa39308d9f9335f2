// Retry-free local PN-counter writes: one Lua script reads the entry, bumps this writer's P or N count
// and its vector-clock counter, and writes entry, digest, history record and bucket high-water together.
// A hot counter key then costs one round trip per increment and never a lost race (the CAS path reads,
// merges in TypeScript and retries when another writer got in between).
//
// The script writes the exact bytes encodeEntry/digestOf would (sorted keys, integer counts), so reads,
// anti-entropy digests and replication see no difference. It only takes states it can reproduce
// byte for byte: integer counts below 2^53 and ASCII node ids (JavaScript sorts strings by UTF-16 unit,
// Lua by byte; they agree on ASCII). For anything else it answers FALLBACK and the caller uses the CAS path.

import { randomUUID } from "node:crypto";
import type { HlcTimestamp } from "@meridian/core";
import { LuaScript } from "@meridian/store";
import type { Redis } from "ioredis";
import { decodeEntry } from "./codec.js";
import {
  guard,
  type HistoryOptions,
  historyLimitOf,
  historyTtlOf,
  IncarnationChangedError,
  type IncarnationGuard,
  writeKeys,
} from "./entry-store.js";
import type { StoredEntry } from "./types.js";

/**
 * Lua helpers shared by the local-write scripts (this one and lww-set.ts): value checks and the JSON /
 * clock texts exactly as encodeEntry and digestOf write them (sorted keys, integers, ASCII names).
 */
export const LUA_ENTRY_HELPERS = `
local SAFE = 9007199254740991
local function int(x) return type(x) == 'number' and x >= 0 and x <= SAFE and x == math.floor(x) end
local function name(s) return type(s) == 'string' and s ~= '' and not s:find('[\\128-\\255]') end
local function counts(t)
  if type(t) ~= 'table' then return nil end
  for k, v in pairs(t) do if not name(k) or not int(v) then return nil end end
  return t
end
local function num(x) return string.format('%.17g', x) end
local ESC = { ['"'] = '\\\\"', ['\\\\'] = '\\\\\\\\', ['\\b'] = '\\\\b', ['\\f'] = '\\\\f', ['\\n'] = '\\\\n',
  ['\\r'] = '\\\\r', ['\\t'] = '\\\\t' }
local function str(s)
  if not s:find('[%z\\1-\\31"\\\\]') then return '"' .. s .. '"' end
  return '"' .. (s:gsub('[%z\\1-\\31"\\\\]', function(c) return ESC[c] or string.format('\\\\u%04x', c:byte()) end)) .. '"'
end
local function sorted(t) local ks = {} for k in pairs(t) do ks[#ks + 1] = k end table.sort(ks) return ks end
local function obj(t)
  local out = {}
  for _, k in ipairs(sorted(t)) do out[#out + 1] = str(k) .. ':' .. num(t[k]) end
  return '{' .. table.concat(out, ',') .. '}'
end
local function uri(s)
  if not s:find("[^%w%-_%.!~%*'%(%)]") then return s end
  return (s:gsub("[^%w%-_%.!~%*'%(%)]", function(c) return string.format('%%%02X', c:byte()) end))
end
local function clockText(t)
  local out = {}
  for _, k in ipairs(sorted(t)) do out[#out + 1] = uri(k) .. ':' .. num(t[k]) end
  return table.concat(out, ',')
end
`;

const FALLBACK = -3;
const INCARNATION_GONE = -2;

/** Exported for bench/write (redis-benchmark runs it as the server limit). */
// KEYS: entry hash, history list, bucket index, writer-incarnation key.
// ARGV: 1 writer node, 2 'p'|'n', 3 amount, 4 ts.wallMs, 5 ts.logical, 6 ts.node, 7 region, 8 now,
// 9 history limit, 10 history ttl ms, 11 key, 12 new revision, 13 incarnation ('' skips the guard).
export const COUNTER_OP = new LuaScript<string | number>(
  "eventualCounterOp",
  `
if ARGV[13] ~= '' and redis.call('GET', KEYS[4]) ~= ARGV[13] then return ${INCARNATION_GONE} end
${LUA_ENTRY_HELPERS}
local text = redis.call('HGET', KEYS[1], 'entry')
local p, n, clock, hlc = {}, {}, {}, nil
if text then
  local ok, e = pcall(cjson.decode, text)
  if not ok or type(e) ~= 'table' or type(e.crdt) ~= 'table' or e.crdt.type ~= 'pncounter'
    or type(e.crdt.state) ~= 'table' then return ${FALLBACK} end
  p, n, clock, hlc = counts(e.crdt.state.p), counts(e.crdt.state.n), counts(e.clock), e.hlc
  if not (p and n and clock) or type(hlc) ~= 'table' or not int(hlc.wallMs) or not int(hlc.logical)
    or not name(hlc.node) then return ${FALLBACK} end
end

local node, by = ARGV[1], tonumber(ARGV[3])
local hwm = tonumber(redis.call('HGET', KEYS[3], ARGV[11]) or '0')
local own = math.max(clock[node] or 0, hwm) + 1
clock[node] = own
local side = ARGV[2] == 'p' and p or n
if by > 0 then side[node] = (side[node] or 0) + by end
if not int(side[node] or 0) then return ${FALLBACK} end

local wall, logical, tsNode = tonumber(ARGV[4]), tonumber(ARGV[5]), ARGV[6]
if hlc and (wall < hlc.wallMs or (wall == hlc.wallMs and (logical < hlc.logical
  or (logical == hlc.logical and tsNode <= hlc.node)))) then
  wall, logical, tsNode = hlc.wallMs, hlc.logical + 1, ARGV[7]
end

local clockJson = obj(clock)
local entry = '{"crdt":{"type":"pncounter","state":{"p":' .. obj(p) .. ',"n":' .. obj(n) .. '}},"clock":'
  .. clockJson .. ',"hlc":{"wallMs":' .. num(wall) .. ',"logical":' .. num(logical) .. ',"node":'
  .. str(tsNode) .. '},"region":' .. str(ARGV[7]) .. ',"updatedAtMs":' .. ARGV[8] .. '}'
local digest = redis.sha1hex('pncounter|' .. clockText(clock) .. '|{"state":{"n":' .. obj(n) .. ',"p":'
  .. obj(p) .. '},"type":"pncounter"}')
redis.call('HSET', KEYS[1], 'rev', ARGV[12], 'entry', entry, 'digest', digest)
if text and tonumber(ARGV[9]) > 0 then
  redis.call('LPUSH', KEYS[2], '{"before":' .. text .. ',"afterClock":' .. clockJson .. ',"overriddenAtMs":'
    .. ARGV[8] .. ',"cause":"local-write"}')
  redis.call('LTRIM', KEYS[2], 0, tonumber(ARGV[9]) - 1)
  redis.call('PEXPIRE', KEYS[2], ARGV[10])
end
redis.call('HSET', KEYS[3], ARGV[11], num(own))
return entry
`,
  4,
);

export interface CounterOp {
  /** Writer node (the region's current incarnation): whose P/N count and clock counter move. */
  node: string;
  /** Region recorded as the entry's newest writer. */
  region: string;
  side: "increment" | "decrement";
  /** Integer amount, 0 <= by <= 2^53 - 1 (the caller validates). */
  by: number;
  /** Candidate HLC timestamp; the script moves it past the stored one when it is not newer. */
  ts: HlcTimestamp;
}

/** True when the Lua path can apply `by` exactly (otherwise the CAS path handles it). */
export function luaCounterAmount(by: number): boolean {
  return Number.isSafeInteger(by) && by >= 0;
}

/**
 * Applies one local increment/decrement atomically in Redis. Returns the written entry, or null when the
 * stored state is one the script does not reproduce byte for byte (the caller then uses the CAS path).
 * IncarnationChangedError when the guarded incarnation is gone from Redis.
 */
export async function applyCounterOp(
  redis: Redis,
  prefix: string,
  key: string,
  op: CounterOp,
  opts: HistoryOptions = {},
  incarnation?: IncarnationGuard,
): Promise<StoredEntry | null> {
  const reply = await guard("counter write", () =>
    COUNTER_OP.run(redis, writeKeys(prefix, key, incarnation), counterArgs(key, op, opts, incarnation)),
  );
  return counterReply(reply);
}

/** The script's ARGV for `op` on `key`. */
export function counterArgs(
  key: string,
  op: CounterOp,
  opts: HistoryOptions,
  incarnation: IncarnationGuard | undefined,
): (string | number)[] {
  return [
    op.node,
    op.side === "increment" ? "p" : "n",
    op.by,
    op.ts.wallMs,
    op.ts.logical,
    op.ts.node,
    op.region,
    (opts.now ?? Date.now)(),
    historyLimitOf(opts),
    historyTtlOf(opts),
    key,
    randomUUID(),
    incarnation?.value ?? "",
  ];
}

/** The written entry, or null for FALLBACK; IncarnationChangedError for INCARNATION_GONE. */
export function counterReply(reply: string | number): StoredEntry | null {
  if (reply === INCARNATION_GONE) throw new IncarnationChangedError();
  if (reply === FALLBACK) return null;
  return decodeEntry(String(reply));
}
