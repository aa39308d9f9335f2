// Lua scripts of one region's cache copy. Per key: entry hash `e:` {v (JSON, "" = absent), ver, at},
// write-in-progress marker `p:` (writer id, with ttl), memcache-style lease `l:` (token, with ttl),
// fence high-water mark `f:` (`<token>|<holder>`: largest fencing token a write-through carried, and by whom).
import { LuaScript } from "@meridian/store";

/**
 * KEYS: entry, pending, lease. ARGV: leaseToken, leaseTtlMs.
 * {1, v, ver, at} hit | {2} a write is in flight (read the DB, do not fill) | {3} lease granted | {4} lease busy
 */
export const GET_OR_LEASE = new LuaScript(
  "getOrLease",
  `
local pending = redis.call('EXISTS', KEYS[2]) == 1
if not pending then
  local e = redis.call('HMGET', KEYS[1], 'v', 'ver', 'at')
  if e[1] then return { 1, e[1], e[2], e[3] } end
  if redis.call('SET', KEYS[3], ARGV[1], 'NX', 'PX', ARGV[2]) then return { 3 } end
  return { 4 }
end
return { 2 }
`,
  3,
);

/**
 * Fill after a miss, only by the lease holder and only if no write voided the lease meanwhile.
 * KEYS: entry, pending, lease. ARGV: leaseToken, v, ver, atMs, entryTtlMs. 1 filled, 0 refused.
 */
export const FILL = new LuaScript(
  "fill",
  `
if redis.call('GET', KEYS[3]) ~= ARGV[1] then return 0 end
redis.call('DEL', KEYS[3])
if redis.call('EXISTS', KEYS[2]) == 1 then return 0 end
local cur = tonumber(redis.call('HGET', KEYS[1], 'ver') or '-1')
if cur >= tonumber(ARGV[3]) then return 0 end
redis.call('HSET', KEYS[1], 'v', ARGV[2], 'ver', ARGV[3], 'at', ARGV[4])
if tonumber(ARGV[5]) > 0 then redis.call('PEXPIRE', KEYS[1], ARGV[5]) end
return 1
`,
  3,
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
 * KEYS: entry, pending, fence. ARGV: v, ver, atMs, fence (0 = none), writerId ("" = none), entryTtlMs,
 * fence holder. A different holder needs a strictly larger token than the high-water mark.
 * 1 set | 0 superseded / write in flight | -1 older version | -2 stale fencing token
 */
export const SET_IF_NEWER = new LuaScript(
  "setIfNewer",
  `
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
local cur = tonumber(redis.call('HGET', KEYS[1], 'ver') or '-1')
if tonumber(ARGV[2]) <= cur then return -1 end
redis.call('HSET', KEYS[1], 'v', ARGV[1], 'ver', ARGV[2], 'at', ARGV[3])
if tonumber(ARGV[6]) > 0 then redis.call('PEXPIRE', KEYS[1], ARGV[6]) end
return 1
`,
  3,
);
