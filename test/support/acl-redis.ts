// A private redis-server on a free port whose only user is `meridian` with `password` (the default user
// is off), for tests of credentials. Killed by the returned stop().
import { type RedisServerProcess, startRedisServer } from "@meridian/cluster";

export function startAclRedis(password: string): Promise<RedisServerProcess> {
  return startRedisServer({
    extraArgs: ["--user", "default", "off", "--user", "meridian", "on", `>${password}`, "~*", "&*", "+@all"],
  });
}
