// Lua scripts of the lock protocol. Each runs atomically in Redis, so "check then act" cannot race.
// Token format: `<owner>|<random>`; the owner is everything before the last `|` (used by the wait-for graph).
import { LuaScript, REDIS_RUN_ID_LUA } from "@meridian/store";
import { EPOCH_SCALE } from "./fence-epochs.js";

const OWNER_OF = `
local function owner_of(tok)
  if not tok then return nil end
  return string.match(tok, '^(.*)|[^|]*$')
end
`;

// Fencing token = epoch * EPOCH_SCALE + per-lock counter. The epoch key holds `<epoch>|<run_id>`: an epoch is
// only trusted by the server incarnation it was set in, so a restarted (empty or not) or failed-over server
// issues nothing until a new, larger epoch from the durable source is installed. The per-lock counter hash
// {e, c} restarts at 1 under each new epoch. Returns nil when a new epoch is needed. `n` > 1 reserves a block
// of n consecutive tokens (a cached lease hands them to local callers) and returns the first.
// INFO is the costly part of an acquire (it cuts a server's script rate about fourfold), so one script
// call reads the run_id once, however many locks it takes.
const NEXT_FENCE = `
local cached_run_id
local function run_id()
  if not cached_run_id then cached_run_id = ${REDIS_RUN_ID_LUA} end
  return cached_run_id
end
local function next_fence(fkey, ekey, n)
  n = n or 1
  local cur = redis.call('GET', ekey)
  if not cur then return nil end
  local ep, rid = string.match(cur, '^(%d+)|(%x+)$')
  if not ep or rid ~= run_id() then return nil end
  if redis.call('HGET', fkey, 'e') ~= ep then redis.call('HSET', fkey, 'e', ep, 'c', 0) end
  local c = redis.call('HINCRBY', fkey, 'c', n)
  if c >= ${EPOCH_SCALE} then return nil end
  return tonumber(ep) * ${EPOCH_SCALE} + c - n + 1
end
`;

// One lock: SET NX PX with the next fence (or a block of n), holder recorded; else -pttl of the holder.
const ACQUIRE_ONE = `
local function acquire_one(lk, fk, hk, ek, tok, ttl, res, n)
  if redis.call('EXISTS', lk) == 0 then
    local fence = next_fence(fk, ek, n)
    if not fence then return 0 end
    redis.call('SET', lk, tok, 'PX', ttl)
    redis.call('HSET', hk, res, tok)
    return fence
  end
  local pttl = redis.call('PTTL', lk)
  if pttl < 1 then pttl = 1 end
  return -pttl
end
`;

/**
 * KEYS: lock, fence, holders, epoch. ARGV: token, ttlMs, resource[, block of fencing tokens to reserve].
 * Returns fence (>0; the first of the block), -pttl of the current holder, or 0 when a new fencing epoch
 * must be installed first.
 */
export const ACQUIRE = new LuaScript(
  "acquire",
  `${NEXT_FENCE}${ACQUIRE_ONE}
return acquire_one(KEYS[1], KEYS[2], KEYS[3], KEYS[4], ARGV[1], ARGV[2], ARGV[3], tonumber(ARGV[4]))
`,
  4,
);

/**
 * Several independent ACQUIREs in one call (concurrent callers of one process, batched).
 * KEYS: holders, epoch, then lock_i, fence_i per item. ARGV: token_i, ttlMs_i, resource_i per item.
 * Returns one ACQUIRE result per item, in order.
 */
export function acquireBatchScript(items: number): LuaScript {
  return new LuaScript(
    `acquireBatch${items}`,
    `${NEXT_FENCE}${ACQUIRE_ONE}
local out = {}
for i = 1, (#KEYS - 2) / 2 do
  out[i] = acquire_one(KEYS[1 + 2 * i], KEYS[2 + 2 * i], KEYS[1], KEYS[2], ARGV[3 * i - 2], ARGV[3 * i - 1], ARGV[3 * i], 1)
end
return out
`,
    2 + 2 * items,
  );
}

/**
 * Installs a fencing epoch drawn from the durable source. KEYS: epoch. ARGV: epoch, run_id observed BEFORE
 * the epoch was drawn. Refused (0) if the server is another incarnation by now, or already has an equal or
 * larger epoch of this incarnation; 1 when installed.
 */
export const SET_EPOCH = new LuaScript(
  "setEpoch",
  `
local rid = ${REDIS_RUN_ID_LUA}
if rid ~= ARGV[2] then return 0 end
local cur = redis.call('GET', KEYS[1])
if cur then
  local ep, crid = string.match(cur, '^(%d+)|(%x+)$')
  if crid == rid and ep and tonumber(ep) >= tonumber(ARGV[1]) then return 0 end
end
redis.call('SET', KEYS[1], ARGV[1] .. '|' .. rid)
return 1
`,
  1,
);

/**
 * Reserves another block of fencing tokens for a lock the caller still holds. KEYS: lock, fence, epoch.
 * ARGV: token, block. Returns the first token of the block, -1 if not held, 0 if a new epoch is needed.
 */
export const RESERVE_FENCES = new LuaScript(
  "reserveFences",
  `${NEXT_FENCE}
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return -1 end
return next_fence(KEYS[2], KEYS[3], tonumber(ARGV[2])) or 0
`,
  3,
);

/** KEYS: lock, holders. ARGV: token, resource. Deletes only our own lock. Returns 1 if released, 0 if not held. */
export const RELEASE = new LuaScript(
  "release",
  `
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('DEL', KEYS[1])
  if redis.call('HGET', KEYS[2], ARGV[2]) == ARGV[1] then redis.call('HDEL', KEYS[2], ARGV[2]) end
  return 1
end
return 0
`,
  2,
);

/** KEYS: lock. ARGV: token, ttlMs. Extends only our own lock (never re-creates an expired one). 1 / 0. */
export const RENEW = new LuaScript(
  "renew",
  `
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 0
`,
  1,
);

/**
 * Registers (or refreshes) "owner waits for resource" and walks the wait-for graph from there.
 * KEYS: waits, holders, waitSeq. ARGV: owner, resource, fullLockPrefix, waitEntryTtlMs, maxDepth.
 * Returns {0} when there is no cycle through the caller, else {1, victim, owner1, owner2, ...}.
 * The victim is the youngest waiter of the cycle (largest wait sequence number).
 * Lock keys of other resources are built from fullLockPrefix (single Redis server, not Redis Cluster).
 */
export const WAIT_FOR = new LuaScript(
  "waitFor",
  `${OWNER_OF}
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local me, res, prefix = ARGV[1], ARGV[2], ARGV[3]
local ttl, maxDepth = tonumber(ARGV[4]), tonumber(ARGV[5])

local function parse(w)
  if not w then return nil end
  local r, s, e = string.match(w, '^(.*)|(%d+)|(%d+)$')
  if not r then return nil end
  return r, tonumber(s), tonumber(e)
end

local seq
local cr, cs, ce = parse(redis.call('HGET', KEYS[1], me))
if cr == res and ce >= now then seq = cs else seq = redis.call('INCR', KEYS[3]) end
redis.call('HSET', KEYS[1], me, res .. '|' .. seq .. '|' .. (now + ttl))

local path, seqs, seen = { me }, { seq }, { [me] = true }
local r = res
for _ = 1, maxDepth do
  local tok = redis.call('HGET', KEYS[2], r)
  if not tok then return { 0 } end
  if redis.call('GET', prefix .. r) ~= tok then
    redis.call('HDEL', KEYS[2], r) -- the lock expired unreleased: forget the stale holder
    return { 0 }
  end
  local holder = owner_of(tok)
  -- Our own lock, directly: another task of the same client holds it and will release it; not a cycle.
  if holder == me and #path == 1 then return { 0 } end
  if holder == me then
    local victim, best = me, seq
    for i = 2, #path do if seqs[i] > best then best = seqs[i]; victim = path[i] end end
    local out = { 1, victim }
    for i = 1, #path do out[#out + 1] = path[i] end
    return out
  end
  if seen[holder] then return { 0 } end
  local wr, ws, we = parse(redis.call('HGET', KEYS[1], holder))
  if not wr or we < now then return { 0 } end
  path[#path + 1] = holder; seqs[#seqs + 1] = ws; seen[holder] = true
  r = wr
end
return { 0 }
`,
  3,
);

/** KEYS: waits. ARGV: owner. Forgets the caller's wait entry. */
export const CLEAR_WAIT = new LuaScript("clearWait", `return redis.call('HDEL', KEYS[1], ARGV[1])`, 1);

/**
 * Key lock inside a namespace (escalation). Refused while another owner holds the namespace lock.
 * KEYS: lock, fence, holders, nsLock, nsMembers, epoch. ARGV: token, ttlMs, resource, owner.
 * Returns fence (>0), -pttl of whatever blocks us, or 0 (new epoch needed).
 */
export const ACQUIRE_IN_NAMESPACE = new LuaScript(
  "acquireInNamespace",
  `${OWNER_OF}${NEXT_FENCE}
local ns = redis.call('GET', KEYS[4])
if ns and owner_of(ns) ~= ARGV[4] then
  local p = redis.call('PTTL', KEYS[4]); if p < 1 then p = 1 end
  return -p
end
if redis.call('EXISTS', KEYS[1]) == 0 then
  local fence = next_fence(KEYS[2], KEYS[6])
  if not fence then return 0 end
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
  redis.call('HSET', KEYS[3], ARGV[3], ARGV[1])
  redis.call('SADD', KEYS[5], ARGV[3])
  return fence
end
local pttl = redis.call('PTTL', KEYS[1]); if pttl < 1 then pttl = 1 end
return -pttl
`,
  6,
);

/**
 * Namespace lock: granted only when no other owner holds a key lock of the namespace.
 * KEYS: nsLock, fence, holders, nsMembers, epoch. ARGV: token, ttlMs, nsResource, owner, fullLockPrefix.
 */
export const ACQUIRE_NAMESPACE = new LuaScript(
  "acquireNamespace",
  `${OWNER_OF}${NEXT_FENCE}
for _, m in ipairs(redis.call('SMEMBERS', KEYS[4])) do
  local v = redis.call('GET', ARGV[5] .. m)
  if not v then
    redis.call('SREM', KEYS[4], m)
  elseif owner_of(v) ~= ARGV[4] then
    local p = redis.call('PTTL', ARGV[5] .. m); if p < 1 then p = 1 end
    return -p
  end
end
if redis.call('EXISTS', KEYS[1]) == 0 then
  local fence = next_fence(KEYS[2], KEYS[5])
  if not fence then return 0 end
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
  redis.call('HSET', KEYS[3], ARGV[3], ARGV[1])
  return fence
end
local pttl = redis.call('PTTL', KEYS[1]); if pttl < 1 then pttl = 1 end
return -pttl
`,
  5,
);
