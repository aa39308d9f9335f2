// Lua of the L1 lease directory, one per region's Redis. Per key a set of holder node ids `h:<key>`;
// per node a liveness lease `n:<node>` (PX). A holder may serve its L1 copy only while its lease is alive;
// a writer collects the holders after its commit and waits for each one's ack or lease expiry.
// The lease clock that matters is this Redis's own (PTTL): holders only compare durations against it.
// Per directory `inc` {rid, since}: the Redis incarnation (run_id) the directory state belongs to and when
// that incarnation was first seen. A server that lost the directory (restarted empty, from a snapshot, a
// promoted replica) has another run_id: leases it never granted may still be valid at their holders, so
// writers wait out one lease from `since` before trusting its holder sets.
import { LuaScript, REDIS_RUN_ID_LUA } from "@meridian/store";

/**
 * `incarnation(incKey, quarantineMs)` → run_id, ms left of the new-incarnation quarantine, Redis TIME.
 * The first script to run on a new incarnation records it (`since` = now).
 */
const INCARNATION = `
local function incarnation(ikey, quarantine)
  local rid = ${REDIS_RUN_ID_LUA}
  local t = redis.call('TIME')
  local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
  local cur = redis.call('HMGET', ikey, 'rid', 'since')
  local since = tonumber(cur[2])
  if cur[1] ~= rid or not since then
    since = now
    redis.call('HSET', ikey, 'rid', rid, 'since', since)
  end
  return rid, math.max(0, since + quarantine - now), t
end
`;

/**
 * Renew (or take) the node's lease, tagged with this server's run_id. KEYS: node lease, incarnation.
 * ARGV: node incarnation, leaseMs. Returns {existed (0|1), redis seconds, redis microseconds}: existed = 0
 * means the lease had lapsed or was granted by another Redis incarnation (writers may have skipped this
 * node), so every copy it holds must be dropped.
 */
export const RENEW_LEASE = new LuaScript(
  "l1RenewLease",
  `${INCARNATION}
local rid, _, t = incarnation(KEYS[2], 0)
local tag = ARGV[1] .. '|' .. rid
local existed = (redis.call('GET', KEYS[1]) == tag) and 1 or 0
redis.call('SET', KEYS[1], tag, 'PX', ARGV[2])
return { existed, t[1], t[2] }
`,
  2,
);

/**
 * Record the node as a holder of the key, only while its lease is alive and no write of the key is in
 * flight. KEYS: holders, node lease, write markers (zset writer -> expiry ms). ARGV: node, holders ttl ms.
 * 1 registered | 0 lease lapsed | 2 a write is in flight (use the value once, do not cache it).
 */
export const REGISTER_HOLDER = new LuaScript(
  "l1RegisterHolder",
  `
if redis.call('EXISTS', KEYS[2]) == 0 then return 0 end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', now)
if redis.call('ZCARD', KEYS[3]) > 0 then return 2 end
redis.call('SADD', KEYS[1], ARGV[1])
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return 1
`,
  3,
);

const COLLECT = `
local holders = redis.call('SMEMBERS', KEYS[1])
redis.call('DEL', KEYS[1])
local out = { 0 }
for _, h in ipairs(holders) do
  local ttl = redis.call('PTTL', ARGV[3] .. h)
  if ttl > 0 then
    table.insert(out, h)
    table.insert(out, ttl)
  end
end
return out
`;

/**
 * Before a write: mark the key as being written (no new holder may register until the mark goes or
 * expires) and take its holders, returned with their remaining lease: {0, node1, pttl1, node2, pttl2, ...}.
 * Holders whose lease has lapsed have stopped serving and are skipped. On a Redis incarnation younger
 * than one lease nothing is marked and {ms to wait} is returned: holders it forgot may still be serving.
 * KEYS: holders, write markers, incarnation. ARGV: writer id, mark ttl ms, lease key prefix, quarantine ms.
 */
export const MARK_AND_COLLECT = new LuaScript(
  "l1MarkAndCollect",
  `${INCARNATION}
local _, wait, t = incarnation(KEYS[3], tonumber(ARGV[4]))
if wait > 0 then return { wait } end
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZADD', KEYS[2], now + tonumber(ARGV[2]), ARGV[1])
redis.call('PEXPIRE', KEYS[2], ARGV[2])
${COLLECT}`,
  3,
);

/**
 * After the commit: remove this writer's mark and take the holders that registered anyway (only possible
 * when the mark expired, or the server lost it, before the commit), in the same form.
 * KEYS: holders, write markers, incarnation (unused). ARGV: writer id, unused, lease key prefix, unused.
 */
export const UNMARK_AND_COLLECT = new LuaScript(
  "l1UnmarkAndCollect",
  `
redis.call('ZREM', KEYS[2], ARGV[1])
${COLLECT}`,
  3,
);

/** Drop the node's lease at shutdown (its copies go with it). KEYS: node lease. ARGV: node incarnation. */
export const DROP_LEASE = new LuaScript(
  "l1DropLease",
  `
local v = redis.call('GET', KEYS[1])
if v and string.sub(v, 1, #ARGV[1] + 1) == ARGV[1] .. '|' then return redis.call('DEL', KEYS[1]) end
return 0
`,
  1,
);
