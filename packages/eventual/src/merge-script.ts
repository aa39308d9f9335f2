// The merge rule of resolve.ts (vector clocks first, then the CRDT merge of core) as one Lua script, so a
// remote or anti-entropy merge into a hot key is one atomic round trip and never a lost CAS race.
//
// The script never re-encodes a user value: it splits the stored JSON into raw pieces (a small scanner, no
// cjson round trip) and splices them, so the bytes it writes are the bytes encodeEntry/digestOf write.
// Where byte order and JavaScript's UTF-16 order could disagree it refuses (answers 'fallback', writes
// nothing) and the caller takes the CAS path: node ids, tags or compared values with a backslash or a
// non-ASCII byte, and values holding integer-like object keys (JSON.parse moves those first, so a stored
// value is then not its canonical JSON). Strings are compared byte by byte, never with `<` (Redis' Lua
// compares with strcoll, which follows the server's locale).
import { randomUUID } from "node:crypto";
import { InvalidInputError } from "@meridian/core";
import { type LuaArg, LuaScript } from "@meridian/store";
import type { ChainableCommander, Redis } from "ioredis";
import { bucketKey, bucketOf, entryKey, historyKey } from "./keys.js";
import type { ApplyOutcome, StoredEntry } from "./types.js";

/** The merge's helper functions and per-type modules: no KEYS or ARGV in them, so a batch defines them once. */
export const MERGE_LIB = String.raw`
local function fail() error('fallback') end
local function less(a, b)
  if a == b then return false end
  local n = math.min(#a, #b)
  for i = 1, n do
    local x, y = a:byte(i), b:byte(i)
    if x ~= y then return x < y end
  end
  return #a < #b
end
local function plain(k) if k:find('[\\\128-\255]') then fail() end return k end
local function ascii(t) if t:find('[\128-\255]') then fail() end return t end
local function canonical(t) if t:find('"%d+":') then fail() end return t end
local function num(raw) local v = tonumber(raw) if not v then fail() end return v end

-- Index of the closing quote of the JSON string whose opening quote is at i.
local function skipString(s, i)
  local q = s:find('["\\]', i + 1)
  while q and s:byte(q) == 92 do q = s:find('["\\]', q + 2) end
  if not q then fail() end
  return q
end
-- Index of the last byte of the JSON value starting at i (compact JSON, as JSON.stringify writes it).
-- Bytes, not one-character strings: 34 '"', 91 '[', 93 ']', 123 '{', 125 '}'.
local function skip(s, i)
  local c = s:byte(i)
  if c == 34 then return skipString(s, i) end
  if c == 123 or c == 91 then
    local depth, j = 0, i
    while true do
      local q = s:find('[%[%]{}"]', j)
      if not q then fail() end
      local d = s:byte(q)
      if d == 34 then j = skipString(s, q) + 1
      else
        if d == 123 or d == 91 then depth = depth + 1 else depth = depth - 1 end
        if depth == 0 then return q end
        j = q + 1
      end
    end
  end
  local q = s:find('[,%]}]', i)
  if not q or q == i then fail() end
  return q - 1
end
local function inner(raw)
  if #raw < 2 or raw:byte(1) ~= 34 or raw:byte(-1) ~= 34 then fail() end
  return raw:sub(2, -2)
end
-- Calls put(name, raw value) for each field of the compact JSON object s, in order (58 ':', 44 ',').
local function eachField(s, put)
  if s:byte(1) ~= 123 then fail() end
  if s:byte(2) == 125 then return end
  local i = 2
  while true do
    if s:byte(i) ~= 34 then fail() end
    local ke = skipString(s, i)
    if s:byte(ke + 1) ~= 58 then fail() end
    local ve = skip(s, ke + 2)
    put(s:sub(i + 1, ke - 1), s:sub(ke + 2, ve))
    local sep = s:byte(ve + 1)
    if sep == 125 then return end
    if sep ~= 44 then fail() end
    i = ve + 2
  end
end
local function fields(s)
  local m = {}
  eachField(s, function(k, v) m[k] = v end)
  return m
end
local function items(s)
  if s:byte(1) ~= 91 then fail() end
  local out, i = {}, 2
  if s:byte(2) == 93 then return out end
  while true do
    local e = skip(s, i)
    out[#out + 1] = s:sub(i, e)
    local sep = s:byte(e + 1)
    if sep == 93 then return out end
    if sep ~= 44 then fail() end
    i = e + 2
  end
end
local function sortedKeys(t)
  local ks = {}
  for k in pairs(t) do ks[#ks + 1] = k end
  table.sort(ks, less)
  return ks
end

-- node -> raw number maps (vector clocks, PN-counter counts)
local function counts(raw)
  local m = {}
  eachField(raw, function(k, v) num(v) m[plain(k)] = v end)
  return m
end
local function join(a, b)
  local out = {}
  for k, v in pairs(a) do out[k] = v end
  for k, v in pairs(b) do if out[k] == nil or num(v) > num(out[k]) then out[k] = v end end
  return out
end
local function obj(m)
  local out = {}
  for _, k in ipairs(sortedKeys(m)) do out[#out + 1] = '"' .. k .. '":' .. m[k] end
  return '{' .. table.concat(out, ',') .. '}'
end
local function uri(s)
  return (s:gsub("[^%w%-_%.!~%*'%(%)]", function(c) return string.format('%%%02X', c:byte()) end))
end
local function clockText(m)
  local out = {}
  for _, k in ipairs(sortedKeys(m)) do out[#out + 1] = uri(k) .. ':' .. m[k] end
  return table.concat(out, ',')
end
-- 'before' when a happened before b (VectorClock.compare).
local function order(a, b)
  local ab, ba = false, false
  for k, v in pairs(a) do
    local x, y = num(v), num(b[k] or '0')
    if x > y then ab = true elseif x < y then ba = true end
  end
  for k, v in pairs(b) do if a[k] == nil and num(v) > 0 then ba = true end end
  if ab and ba then return 'concurrent' end
  if ab then return 'after' end
  if ba then return 'before' end
  return 'equal'
end

local function hlcOf(raw)
  local f = fields(raw)
  return { w = num(f.wallMs), l = num(f.logical), node = inner(f.node), raw = f }
end
local function cmpHlc(a, b)
  if a.w ~= b.w then return a.w < b.w and -1 or 1 end
  if a.l ~= b.l then return a.l < b.l and -1 or 1 end
  if a.node == b.node then return 0 end
  plain(a.node) plain(b.node)
  return less(a.node, b.node) and -1 or 1
end

-- A stored entry's fields. Its writers put crdt, clock, hlc, region, updatedAtMs in that order, and the
-- clock and hlc objects hold no braces, so one anchored match splits it: the crdt is what precedes the
-- last ',"clock":{' (a value inside the crdt cannot be followed by such a tail). Any other shape — a
-- brace in a node id, an escape in the region — goes through the scanner.
local function envelope(t)
  local crdt, clock, hlc, region = t:match('^{"crdt":(.*),"clock":({[^{}]*}),"hlc":({[^{}]*}),"region":("[^"\\]*"),"updatedAtMs":[^,{}"]*}$')
  if crdt then return { crdt = crdt, clock = clock, hlc = hlc, region = region } end
  return fields(t)
end

-- One module per CRDT type: parse(crdt raw, state raw) -> S; stored(S), canon(S) -> text; merge(local, remote) -> S.
local T = {}
T.lww = {
  parse = function(crdt, state)
    if state == 'null' then return { crdt = crdt } end
    local f = fields(state)
    return { crdt = crdt, v = canonical(f.value), ts = hlcOf(f.ts) }
  end,
  stored = function(s) return s.crdt end,
  canon = function(s)
    if not s.ts then return '{"state":null,"type":"lww"}' end
    local t = s.ts.raw
    return '{"state":{"ts":{"logical":' .. t.logical .. ',"node":' .. t.node .. ',"wallMs":' .. t.wallMs
      .. '},"value":' .. s.v .. '},"type":"lww"}'
  end,
  merge = function(a, b)
    if not b.ts then return a end
    if not a.ts then return b end
    local o = cmpHlc(a.ts, b.ts)
    if o ~= 0 then return o > 0 and a or b end
    if a.v == b.v then return a end
    ascii(a.v) ascii(b.v)
    return less(a.v, b.v) and b or a
  end,
}
T.pncounter = {
  parse = function(_, state)
    local f = fields(state)
    return { p = counts(f.p), n = counts(f.n) }
  end,
  stored = function(s) return '{"type":"pncounter","state":{"p":' .. obj(s.p) .. ',"n":' .. obj(s.n) .. '}}' end,
  canon = function(s) return '{"state":{"n":' .. obj(s.n) .. ',"p":' .. obj(s.p) .. '},"type":"pncounter"}' end,
  merge = function(a, b) return { p = join(a.p, b.p), n = join(a.n, b.n) } end,
}
local function elements(raw)
  local m = {}
  for _, item in ipairs(items(raw)) do
    local pair = items(item)
    if #pair ~= 2 then fail() end
    local e = canonical(ascii(pair[1]))
    local tags = m[e] or {}
    for _, t in ipairs(items(pair[2])) do tags[plain(inner(t))] = true end
    m[e] = tags
  end
  return m
end
local function union(a, b)
  local out = {}
  for _, m in ipairs({ a, b }) do
    for e, tags in pairs(m) do
      local t = out[e] or {}
      for tag in pairs(tags) do t[tag] = true end
      out[e] = t
    end
  end
  return out
end
local function elementsText(m)
  local out = {}
  for _, e in ipairs(sortedKeys(m)) do
    local tags = {}
    for _, t in ipairs(sortedKeys(m[e])) do tags[#tags + 1] = '"' .. t .. '"' end
    out[#out + 1] = '[' .. e .. ',[' .. table.concat(tags, ',') .. ']]'
  end
  return '[' .. table.concat(out, ',') .. ']'
end
-- Dotted tags '<counter>@<node>/...' at or below the collected frontier C are held without tombstones
-- (core's ORSet and dots.ts): a side whose C covers a dot it does not hold has seen it removed.
local function covers(C, tag)
  if next(C) == nil then return false end
  local c, n = tag:match('^([1-9]%d*)@([^/]+)/')
  return c ~= nil and #c <= 15 and C[n] ~= nil and tonumber(c) <= num(C[n])
end
local function holds(m, e, tag) return m[e] ~= nil and m[e][tag] == true end
local function without(m, drop)
  local out = {}
  for e, tags in pairs(m) do
    local t, any = {}, false
    for tag in pairs(tags) do if not drop(e, tag) then t[tag] = true any = true end end
    if any then out[e] = t end
  end
  return out
end
local function orsetText(s)
  local text = '"adds":' .. elementsText(s.adds) .. ',"removes":' .. elementsText(s.removes)
  if next(s.C) == nil then return text, text end
  local C = obj(s.C)
  return text .. ',"collected":' .. C,
    '"adds":' .. elementsText(s.adds) .. ',"collected":' .. C .. ',"removes":' .. elementsText(s.removes)
end
T.orset = {
  parse = function(_, state)
    local f = fields(state)
    return { adds = elements(f.adds), removes = elements(f.removes), C = f.collected and counts(f.collected) or {} }
  end,
  stored = function(s) return '{"type":"orset","state":{' .. (orsetText(s)) .. '}}' end,
  canon = function(s)
    local _, sorted = orsetText(s)
    return '{"state":{' .. sorted .. '},"type":"orset"}'
  end,
  merge = function(a, b)
    local C = join(a.C, b.C)
    local adds = without(union(a.adds, b.adds), function(e, tag)
      return (covers(C, tag) and (holds(a.removes, e, tag) or holds(b.removes, e, tag)))
        or (not holds(a.adds, e, tag) and covers(a.C, tag))
        or (not holds(b.adds, e, tag) and covers(b.C, tag))
    end)
    local removes = without(union(a.removes, b.removes), function(_, tag) return covers(C, tag) end)
    return { adds = adds, removes = removes, C = C }
  end,
}
-- MV-register: siblings no other sibling happened after, deduplicated and sorted by "clock|value".
local function maximal(all)
  local unique, list = {}, {}
  for _, s in ipairs(all) do
    if not unique[s.key] then unique[s.key] = true list[#list + 1] = s end
  end
  local keep = {}
  for _, s in ipairs(list) do
    local dominated = false
    for _, o in ipairs(list) do if order(s.clock, o.clock) == 'before' then dominated = true break end end
    if not dominated then keep[#keep + 1] = s end
  end
  table.sort(keep, function(x, y) return less(x.key, y.key) end)
  return keep
end
T.mvregister = {
  parse = function(_, state)
    local all = {}
    for _, item in ipairs(items(state)) do
      local f = fields(item)
      local v, clock = canonical(ascii(f.value)), counts(f.clock)
      all[#all + 1] = { v = v, clock = clock, key = clockText(clock) .. '|' .. v }
    end
    return maximal(all)
  end,
  stored = function(s)
    local out = {}
    for _, x in ipairs(s) do out[#out + 1] = '{"value":' .. x.v .. ',"clock":' .. obj(x.clock) .. '}' end
    return '{"type":"mvregister","state":[' .. table.concat(out, ',') .. ']}'
  end,
  canon = function(s)
    local out = {}
    for _, x in ipairs(s) do out[#out + 1] = '{"clock":' .. obj(x.clock) .. ',"value":' .. x.v .. '}' end
    return '{"state":[' .. table.concat(out, ',') .. '],"type":"mvregister"}'
  end,
  merge = function(a, b)
    local all = {}
    for _, x in ipairs(a) do all[#all + 1] = x end
    for _, x in ipairs(b) do all[#all + 1] = x end
    return maximal(all)
  end,
}

`;

/** One merge of KEYS/ARGV (layout below), using MERGE_LIB's functions. */
export const MERGE_BODY = `local rType, rCrdt, rClock, rHlc, rRegion, now = ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5], ARGV[6]
local text = redis.call('HGET', KEYS[1], 'entry')

-- outcome, CRDT state S to store, clock, hlc raw, region raw (nothing else when no write is needed)
local function decide()
  local M = T[rType]
  if not M then fail() end
  local R = M.parse(rCrdt, fields(rCrdt).state)
  local rc = counts(rClock)
  if not text then return 'applied', R, rc, rHlc, rRegion end
  local e = envelope(text)
  local clock = counts(e.clock)
  local o = order(rc, clock)
  -- The stored state is parsed only where it is kept or merged: a newer remote replaces it whole, and
  -- then its type is all that is read of it.
  local lType, L = o == 'after' and e.crdt:match('^{"type":"(%a+)","state":')
  if not lType then
    local lc = fields(e.crdt)
    lType = inner(lc.type)
    if not T[lType] then fail() end
    if o ~= 'after' then L = T[lType].parse(e.crdt, lc.state) end
  end
  if not T[lType] then fail() end
  if lType ~= rType then return 'mismatch:' .. lType end
  local hlc, region = e.hlc, e.region
  if not region then fail() end
  if cmpHlc(hlcOf(rHlc), hlcOf(e.hlc)) > 0 then hlc, region = rHlc, rRegion end
  if o == 'before' then return 'dominated' end
  if o == 'after' then return 'applied', R, rc, hlc, region end
  local merged = M.merge(L, R)
  if o == 'equal' then
    if M.canon(merged) == M.canon(L) then return 'duplicate' end
    return 'merged', merged, clock, hlc, region
  end
  return 'merged', merged, join(clock, rc), hlc, region
end

local ok, outcome, S, clock, hlc, region = pcall(decide)
if not ok then return 'fallback' end
if not S then return outcome end
local M = T[rType]
local clockJson = obj(clock)
local entry = '{"crdt":' .. M.stored(S) .. ',"clock":' .. clockJson .. ',"hlc":' .. hlc .. ',"region":' .. region
  .. ',"updatedAtMs":' .. now .. '}'
local digest = redis.sha1hex(rType .. '|' .. clockText(clock) .. '|' .. M.canon(S))
redis.call('HSET', KEYS[1], 'rev', ARGV[11], 'entry', entry, 'digest', digest)
if text and tonumber(ARGV[7]) > 0 then
  redis.call('LPUSH', KEYS[2], '{"before":' .. text .. ',"afterClock":' .. clockJson .. ',"overriddenAtMs":' .. now
    .. ',"cause":' .. ARGV[10] .. '}')
  redis.call('LTRIM', KEYS[2], 0, tonumber(ARGV[7]) - 1)
  redis.call('PEXPIRE', KEYS[2], ARGV[8])
end
local own = clock[ARGV[12]] or '0'
local hwm = redis.call('HGET', KEYS[3], ARGV[9])
if (not hwm) or tonumber(own) > tonumber(hwm) then redis.call('HSET', KEYS[3], ARGV[9], own) end
return outcome
`;

export const MERGE_SOURCE = MERGE_LIB + MERGE_BODY;

/**
 * KEYS: entry hash, history list, bucket index.
 * ARGV: 1 crdt type, 2 remote crdt JSON, 3 remote clock JSON, 4 remote hlc JSON, 5 remote region (JSON
 * string), 6 now, 7 history limit, 8 history ttl ms, 9 key, 10 cause (JSON string), 11 new revision,
 * 12 this region as it appears inside a JSON string (whose clock counter feeds the bucket high-water).
 * Reply: the ApplyOutcome, 'mismatch:<stored type>', or 'fallback' (nothing written).
 */
export const MERGE_ENTRY = new LuaScript<string>("eventualMergeEntry", MERGE_SOURCE, 3);

/** What a merge did; `changed` = this region's copy was written. */
export interface MergeResult {
  outcome: ApplyOutcome;
  changed: boolean;
}

export interface MergeCall {
  key: string;
  remote: StoredEntry;
  /** Recorded in the history record of the overridden state (e.g. `remote:UPDATE`, `anti-entropy`). */
  cause: string;
}

export interface MergeSettings {
  /** This region: its clock counter in the merged entry feeds the bucket high-water. */
  region: string;
  nowMs: number;
  historyLimit: number;
  historyTtlMs: number;
}

export function mergeKeys(prefix: string, key: string): string[] {
  return [entryKey(prefix, key), historyKey(prefix, key), bucketKey(prefix, bucketOf(key))];
}

export function mergeArgs(call: MergeCall, s: MergeSettings): LuaArg[] {
  const { remote } = call;
  return [
    remote.crdt.type,
    JSON.stringify(remote.crdt.toJSON()),
    JSON.stringify(remote.clock.toJSON()),
    JSON.stringify(remote.hlc),
    JSON.stringify(remote.region),
    s.nowMs,
    s.historyLimit,
    s.historyTtlMs,
    call.key,
    JSON.stringify(call.cause),
    randomUUID(),
    JSON.stringify(s.region).slice(1, -1),
  ];
}

/**
 * The script's reply as a result; null = the script declined (the caller merges on the CAS path).
 * InvalidInputError when the stored entry is of another CRDT type (as resolveEntries throws).
 */
export function mergeReply(call: MergeCall, reply: unknown): MergeResult | null {
  const text = String(reply);
  if (text === "fallback") return null;
  if (text.startsWith("mismatch:")) {
    throw new InvalidInputError("update CRDT type differs from the stored one", {
      stored: text.slice("mismatch:".length),
      update: call.remote.crdt.type,
    });
  }
  const outcome = text as ApplyOutcome;
  return { outcome, changed: outcome === "applied" || outcome === "merged" };
}

/** One merge, one round trip. Null when the script declined (nothing written). */
export async function runMergeScript(
  redis: Redis,
  prefix: string,
  call: MergeCall,
  settings: MergeSettings,
): Promise<MergeResult | null> {
  const reply = await MERGE_ENTRY.run(redis, mergeKeys(prefix, call.key), mergeArgs(call, settings));
  return mergeReply(call, reply);
}

/** Queues a merge on a pipeline of a client the script was defined on (MERGE_ENTRY.defineOn) first. */
export function queueMergeScript(
  pipeline: ChainableCommander,
  prefix: string,
  call: MergeCall,
  settings: MergeSettings,
): void {
  MERGE_ENTRY.queue(pipeline, mergeKeys(prefix, call.key), mergeArgs(call, settings));
}
