// Lua scripts of the lock protocol. Each runs atomically in Redis, so "check then act" cannot race.
// Token format: `<owner>|<random>`; the owner is everything before the last `|` (used by the wait-for graph).
import { LuaScript } from "@meridian/store";

const OWNER_OF = `
local function owner_of(tok)
  if not tok then return nil end
  return string.match(tok, '^(.*)|[^|]*$')
end
`;

/** KEYS: lock, fence, holders. ARGV: token, ttlMs, resource. Returns fence (>0) or -pttl of the current holder. */
export const ACQUIRE = new LuaScript(
  "acquire",
  `
if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then
  local fence = redis.call('INCR', KEYS[2])
  redis.call('HSET', KEYS[3], ARGV[3], ARGV[1])
  return fence
end
local pttl = redis.call('PTTL', KEYS[1])
if pttl < 1 then pttl = 1 end
return -pttl
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
 * KEYS: lock, fence, holders, nsLock, nsMembers. ARGV: token, ttlMs, resource, owner.
 * Returns fence (>0) or -pttl of whatever blocks us.
 */
export const ACQUIRE_IN_NAMESPACE = new LuaScript(
  "acquireInNamespace",
  `${OWNER_OF}
local ns = redis.call('GET', KEYS[4])
if ns and owner_of(ns) ~= ARGV[4] then
  local p = redis.call('PTTL', KEYS[4]); if p < 1 then p = 1 end
  return -p
end
if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then
  local fence = redis.call('INCR', KEYS[2])
  redis.call('HSET', KEYS[3], ARGV[3], ARGV[1])
  redis.call('SADD', KEYS[5], ARGV[3])
  return fence
end
local pttl = redis.call('PTTL', KEYS[1]); if pttl < 1 then pttl = 1 end
return -pttl
`,
  5,
);

/**
 * Namespace lock: granted only when no other owner holds a key lock of the namespace.
 * KEYS: nsLock, fence, holders, nsMembers. ARGV: token, ttlMs, nsResource, owner, fullLockPrefix.
 */
export const ACQUIRE_NAMESPACE = new LuaScript(
  "acquireNamespace",
  `${OWNER_OF}
for _, m in ipairs(redis.call('SMEMBERS', KEYS[4])) do
  local v = redis.call('GET', ARGV[5] .. m)
  if not v then
    redis.call('SREM', KEYS[4], m)
  elseif owner_of(v) ~= ARGV[4] then
    local p = redis.call('PTTL', ARGV[5] .. m); if p < 1 then p = 1 end
    return -p
  end
end
if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then
  local fence = redis.call('INCR', KEYS[2])
  redis.call('HSET', KEYS[3], ARGV[3], ARGV[1])
  return fence
end
local pttl = redis.call('PTTL', KEYS[1]); if pttl < 1 then pttl = 1 end
return -pttl
`,
  4,
);
