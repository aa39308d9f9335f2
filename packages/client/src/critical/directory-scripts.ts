// Lua of the L1 lease directory, one per region's Redis. Per key a set of holder node ids `h:<key>`;
// per node a liveness lease `n:<node>` (PX). A holder may serve its L1 copy only while its lease is alive;
// a writer collects the holders after its commit and waits for each one's ack or lease expiry.
// The lease clock that matters is this Redis's own (PTTL): holders only compare durations against it.
import { LuaScript } from "@meridian/store";

/**
 * Renew (or take) the node's lease. KEYS: node lease. ARGV: incarnation, leaseMs.
 * Returns {existed (0|1), redis seconds, redis microseconds}: existed = 0 means the lease had lapsed
 * (writers may have skipped this node), so every copy it holds must be dropped.
 */
export const RENEW_LEASE = new LuaScript(
  "l1RenewLease",
  `
local existed = redis.call('EXISTS', KEYS[1])
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
local t = redis.call('TIME')
return { existed, t[1], t[2] }
`,
  1,
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
local out = {}
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
 * expires) and take its holders, returned with their remaining lease: {node1, pttl1, node2, pttl2, ...}.
 * Holders whose lease has lapsed have stopped serving and are skipped.
 * KEYS: holders, write markers. ARGV: writer id, mark ttl ms, lease key prefix.
 */
export const MARK_AND_COLLECT = new LuaScript(
  "l1MarkAndCollect",
  `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZADD', KEYS[2], now + tonumber(ARGV[2]), ARGV[1])
redis.call('PEXPIRE', KEYS[2], ARGV[2])
${COLLECT}`,
  2,
);

/**
 * After the commit: remove this writer's mark and take the holders that registered anyway (only possible
 * when the mark expired before the commit), in the same form. KEYS: holders, write markers.
 * ARGV: writer id, unused, lease key prefix.
 */
export const UNMARK_AND_COLLECT = new LuaScript(
  "l1UnmarkAndCollect",
  `
redis.call('ZREM', KEYS[2], ARGV[1])
${COLLECT}`,
  2,
);

/** Drop the node's lease at shutdown (its copies go with it). KEYS: node lease. ARGV: incarnation. */
export const DROP_LEASE = new LuaScript(
  "l1DropLease",
  `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
`,
  1,
);
