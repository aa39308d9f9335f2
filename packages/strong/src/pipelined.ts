// Many calls of one Lua script in a single round trip: the script is defined on the client before the
// pipeline is made (ioredis only copies commands defined by then), and the first failed call fails the lot.
import type { LuaArg, LuaScript } from "@meridian/store";
import type { Redis } from "ioredis";

export async function pipelined(
  redis: Redis,
  script: LuaScript,
  calls: readonly (readonly [readonly string[], readonly LuaArg[]])[],
): Promise<unknown[]> {
  if (calls.length === 0) return [];
  script.defineOn(redis);
  const pipe = redis.pipeline();
  for (const [keys, args] of calls) script.queue(pipe, keys, args);
  const results = (await pipe.exec()) ?? [];
  return results.map(([err, value]) => {
    if (err) throw err;
    return value;
  });
}
