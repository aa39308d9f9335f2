// Lua scripts of one region's cache copy. Per key: entry hash `e:` {v (JSON, "" = absent), ver, at},
// write-in-progress marker `p:` (writer id, with ttl), memcache-style lease `l:` (token, with ttl),
// fence high-water mark `f:` (`<token>|<holder>`: largest fencing token a write-through carried, and by whom).
// Per region: `gen` {rid, gen}. Every script that reads or writes a copy (lookup, fill, write-through) first
// checks the server's run_id (INFO, inside the script, so atomically with what follows; once per call, so a
// whole group's write-through checks it once): a server that is not the incarnation that wrote `gen` (restarted from a
// snapshot, a promoted replica, or a wiped one) bumps `gen`, and copies stamped with an older generation
// are treated as absent — they may predate invalidations that server never received.
// The write scripts take every key of a write (a whole commit group) in one call: one call per region.
import { LuaScript, REDIS_RUN_ID_LUA } from "@meridian/store";

/** Current copy generation; bumps it when this server is a new incarnation. KEYS[g] = gen hash. */
const GENERATION = `
local function generation(gkey)
  local rid = ${REDIS_RUN_ID_LUA}
  local cur = redis.call('HMGET', gkey, 'rid', 'gen')
  if cur[1] == rid and cur[2] then return cur[2] end
  local g = redis.call('HINCRBY', gkey, 'gen', 1)
  redis.call('HSET', gkey, 'rid', rid)
  return tostring(g)
end
`;

/**
 * KEYS: entry, pending, lease, gen. ARGV: leaseToken, leaseTtlMs.
 * {1, v, ver, at} hit | {2} a write is in flight (read the DB, do not fill) | {3} lease granted | {4} lease busy
 */
export const GET_OR_LEASE = new LuaScript(
  "getOrLease",
  `${GENERATION}
local gen = generation(KEYS[4])
local pending = redis.call('EXISTS', KEYS[2]) == 1
if not pending then
  local e = redis.call('HMGET', KEYS[1], 'v', 'ver', 'at', 'g')
  if e[1] and e[4] ~= gen then
    redis.call('DEL', KEYS[1]) -- from an older incarnation: it may have missed an invalidation
    e[1] = false
  end
  if e[1] then return { 1, e[1], e[2], e[3] } end
  if redis.call('SET', KEYS[3], ARGV[1], 'NX', 'PX', ARGV[2]) then return { 3 } end
  return { 4 }
end
return { 2 }
`,
  4,
);

/**
 * Fill after a miss, only by the lease holder and only if no write voided the lease meanwhile.
 * KEYS: entry, pending, lease, gen. ARGV: leaseToken, v, ver, atMs, entryTtlMs. 1 filled, 0 refused.
 */
export const FILL = new LuaScript(
  "fill",
  `${GENERATION}
local gen = generation(KEYS[4])
if redis.call('GET', KEYS[3]) ~= ARGV[1] then return 0 end
redis.call('DEL', KEYS[3])
if redis.call('EXISTS', KEYS[2]) == 1 then return 0 end
local cur = tonumber(redis.call('HGET', KEYS[1], 'ver') or '-1')
if cur >= tonumber(ARGV[3]) and redis.call('HGET', KEYS[1], 'g') == gen then return 0 end
redis.call('HSET', KEYS[1], 'v', ARGV[2], 'ver', ARGV[3], 'at', ARGV[4], 'g', gen)
if tonumber(ARGV[5]) > 0 then redis.call('PEXPIRE', KEYS[1], ARGV[5]) end
return 1
`,
  4,
);

/**
 * Invalidation at the start of a write (before the DB commit), for every key of the write in one call:
 * mark each key as being written, void every outstanding lease and drop the copy. Readers bypass the
 * cache until the marker goes.
 * KEYS: per key entry, pending, lease. ARGV: writerId, pendingTtlMs. Returns the number of keys.
 */
export const BEGIN_WRITE = new LuaScript<number>(
  "beginWrite",
  `
for i = 1, #KEYS, 3 do
  redis.call('SET', KEYS[i + 1], ARGV[1], 'PX', ARGV[2])
  redis.call('DEL', KEYS[i + 2], KEYS[i])
end
return #KEYS / 3
`,
  "variable",
);

/**
 * KEYS: per key pending, entry. ARGV: writerId. Removes our markers only (a later writer's marker stays).
 * If our marker expired before we got here, a fill may have slipped in: drop the copy (a miss is always
 * safe). Returns the number of markers removed.
 */
export const END_WRITE = new LuaScript<number>(
  "endWrite",
  `
local removed = 0
for i = 1, #KEYS, 2 do
  local p = redis.call('GET', KEYS[i])
  if p == ARGV[1] then
    removed = removed + redis.call('DEL', KEYS[i])
  elseif not p then
    redis.call('DEL', KEYS[i + 1])
  end
end
return removed
`,
  "variable",
);

/**
 * Versioned, fenced set of several keys in one call (a commit group's write-through: one call per region,
 * whatever the number of keys), the copy generation checked once for all of them. With a writerId it
 * finishes that write (per key, only if its marker is still the current one); without, it refuses a key
 * while any write of it is in flight. A different fence holder needs a strictly larger token than the
 * key's high-water mark.
 * KEYS: gen, then per key entry, pending, fence. ARGV: writerId ("" = none), entryTtlMs, atMs, then per key
 * v, ver, fence (0 = none), fence holder.
 * Per key, in order: 1 set | 0 superseded / write in flight | -1 older version | -2 stale fencing token
 */
export const SET_IF_NEWER = new LuaScript<number[]>(
  "setIfNewer",
  `${GENERATION}
local gen = generation(KEYS[1])
local writer, ttl, at = ARGV[1], tonumber(ARGV[2]), ARGV[3]
local function setOne(entry, pending, fkey, v, ver, fence, holder)
  if writer ~= '' then
    local p = redis.call('GET', pending)
    if p ~= writer then
      if not p then redis.call('DEL', entry) end
      return 0
    end
    redis.call('DEL', pending)
  elseif redis.call('EXISTS', pending) == 1 then
    return 0
  end
  local token = tonumber(fence)
  if token > 0 then
    local hw, h = string.match(redis.call('GET', fkey) or '0|', '^(%d+)|(.*)$')
    hw = tonumber(hw or '0')
    if token < hw or (token == hw and h ~= holder) then return -2 end
    redis.call('SET', fkey, fence .. '|' .. holder)
  end
  local e = redis.call('HMGET', entry, 'ver', 'g')
  local cur = (e[2] == gen) and tonumber(e[1] or '-1') or -1
  if tonumber(ver) <= cur then return -1 end
  redis.call('HSET', entry, 'v', v, 'ver', ver, 'at', at, 'g', gen)
  if ttl > 0 then redis.call('PEXPIRE', entry, ttl) end
  return 1
end
local out = {}
for i = 0, (#KEYS - 1) / 3 - 1 do
  local k, a = 2 + 3 * i, 4 + 4 * i
  out[i + 1] = setOne(KEYS[k], KEYS[k + 1], KEYS[k + 2], ARGV[a], ARGV[a + 1], ARGV[a + 2], ARGV[a + 3])
end
return out
`,
  "variable",
);
