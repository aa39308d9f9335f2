// Lua scripts of one region's cache copy. Per key: entry hash `e:` {v (JSON, "" = absent), ver, at},
// write-in-progress marker `p:` (writer id, with ttl), memcache-style lease `l:` (token, with ttl),
// fence high-water mark `f:` (`<token>|<holder>`: largest fencing token a write-through carried, and by whom).
// Per region: `gen` {rid, gen}. Every script first checks the server's run_id (INFO, inside the script, so
// atomically with what follows): a server that is not the incarnation that wrote `gen` (restarted from a
// snapshot, a promoted replica, or a wiped one) bumps `gen`, and copies stamped with an older generation
// are treated as absent — they may predate invalidations that server never received.
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
 * Invalidation at the start of a write (before the DB commit): mark the key as being written, void every
 * outstanding lease and drop the copy. Readers bypass the cache until the marker goes.
 * KEYS: entry, pending, lease. ARGV: writerId, pendingTtlMs.
 */
export const BEGIN_WRITE = new LuaScript(
  "beginWrite",
  `
redis.call('SET', KEYS[2], ARGV[1], 'PX', ARGV[2])
redis.call('DEL', KEYS[3], KEYS[1])
return 1
`,
  3,
);

/**
 * KEYS: pending, entry. ARGV: writerId. Removes our marker only (a later writer's marker stays). If our
 * marker expired before we got here, a fill may have slipped in: drop the copy (a miss is always safe).
 */
export const END_WRITE = new LuaScript(
  "endWrite",
  `
local p = redis.call('GET', KEYS[1])
if p == ARGV[1] then return redis.call('DEL', KEYS[1]) end
if not p then redis.call('DEL', KEYS[2]) end
return 0
`,
  2,
);

/**
 * Versioned, fenced set. With a writerId it finishes that write (only if its marker is still the current
 * one); without, it refuses while any write is in flight.
 * KEYS: entry, pending, fence, gen. ARGV: v, ver, atMs, fence (0 = none), writerId ("" = none), entryTtlMs,
 * fence holder. A different holder needs a strictly larger token than the high-water mark.
 * 1 set | 0 superseded / write in flight | -1 older version | -2 stale fencing token
 */
export const SET_IF_NEWER = new LuaScript(
  "setIfNewer",
  `${GENERATION}
local gen = generation(KEYS[4])
if ARGV[5] ~= '' then
  local p = redis.call('GET', KEYS[2])
  if p ~= ARGV[5] then
    if not p then redis.call('DEL', KEYS[1]) end
    return 0
  end
  redis.call('DEL', KEYS[2])
elseif redis.call('EXISTS', KEYS[2]) == 1 then
  return 0
end
local fence = tonumber(ARGV[4])
if fence > 0 then
  local hw, holder = string.match(redis.call('GET', KEYS[3]) or '0|', '^(%d+)|(.*)$')
  hw = tonumber(hw or '0')
  if fence < hw or (fence == hw and holder ~= ARGV[7]) then return -2 end
  redis.call('SET', KEYS[3], ARGV[4] .. '|' .. ARGV[7])
end
local e = redis.call('HMGET', KEYS[1], 'ver', 'g')
local cur = (e[2] == gen) and tonumber(e[1] or '-1') or -1
if tonumber(ARGV[2]) <= cur then return -1 end
redis.call('HSET', KEYS[1], 'v', ARGV[1], 'ver', ARGV[2], 'at', ARGV[3], 'g', gen)
if tonumber(ARGV[6]) > 0 then redis.call('PEXPIRE', KEYS[1], ARGV[6]) end
return 1
`,
  4,
);
