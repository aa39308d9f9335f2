// Directory operations of the Redis near cache. Each runs atomically inside Redis, so Redis serializes
// the directory the way the in-process directory's busy states do. KEYS: [1] value, [2] directory
// hash {owner, ver}, [3] sharer set.

/**
 * GetS. Returns {"recall", owner} when another node owns the line, else {"S"|"E", value, ver}; a 4th
 * element "owner" says the caller already owns it (its own L1 copy, possibly dirty, is the latest).
 */
export const GETS = `
local owner = redis.call('HGET', KEYS[2], 'owner')
if owner and owner ~= '' and owner ~= ARGV[1] then return {'recall', owner} end
local val = redis.call('GET', KEYS[1]) or ''
local ver = redis.call('HGET', KEYS[2], 'ver') or '0'
if owner == ARGV[1] then return {'E', val, ver, 'owner'} end
redis.call('SREM', KEYS[3], ARGV[1])
if redis.call('SCARD', KEYS[3]) == 0 then
  redis.call('HSET', KEYS[2], 'owner', ARGV[1])
  return {'E', val, ver}
end
redis.call('SADD', KEYS[3], ARGV[1])
return {'S', val, ver}
`;

/** GetM. Returns {"recall", owner}, or {"M", value, ver, sharer...} with the sharers to invalidate. */
export const GETM = `
local owner = redis.call('HGET', KEYS[2], 'owner')
if owner and owner ~= '' and owner ~= ARGV[1] then return {'recall', owner} end
local others = {}
for _, s in ipairs(redis.call('SMEMBERS', KEYS[3])) do
  if s ~= ARGV[1] then table.insert(others, s) end
end
redis.call('DEL', KEYS[3])
redis.call('HSET', KEYS[2], 'owner', ARGV[1])
local val = redis.call('GET', KEYS[1]) or ''
local ver = redis.call('HGET', KEYS[2], 'ver') or '0'
local out = {'M', val, ver}
for _, s in ipairs(others) do table.insert(out, s) end
return out
`;

/**
 * Write-back of a dirty line by its owner (PutM / OwnerData). ARGV: node, value, release ('keep'|'S'|'I').
 * Refused (returns -1) unless the caller still owns the line, so a stale owner cannot overwrite.
 */
export const WRITEBACK = `
if redis.call('HGET', KEYS[2], 'owner') ~= ARGV[1] then return -1 end
redis.call('SET', KEYS[1], ARGV[2])
local ver = redis.call('HINCRBY', KEYS[2], 'ver', 1)
if ARGV[3] == 'S' then
  redis.call('HSET', KEYS[2], 'owner', '')
  redis.call('SADD', KEYS[3], ARGV[1])
elseif ARGV[3] == 'I' then
  redis.call('HSET', KEYS[2], 'owner', '')
end
return ver
`;

/** Give up a clean line (PutE / PutS / clean OwnerData). ARGV: node, mode ('S' keep a shared copy | 'I'). */
export const RELEASE = `
if redis.call('HGET', KEYS[2], 'owner') == ARGV[1] then
  redis.call('HSET', KEYS[2], 'owner', '')
  if ARGV[2] == 'S' then redis.call('SADD', KEYS[3], ARGV[1]) end
end
if ARGV[2] == 'I' then redis.call('SREM', KEYS[3], ARGV[1]) end
return 1
`;

/** Clear the ownership of a node whose lease has expired (it crashed; its unflushed writes are lost). */
export const FORCE_RELEASE = `
if redis.call('HGET', KEYS[2], 'owner') == ARGV[1] and redis.call('EXISTS', KEYS[4]) == 0 then
  redis.call('HSET', KEYS[2], 'owner', '')
  return 1
end
return 0
`;
