// Redis (L2) client factory and health check.
import { BackendUnavailableError, type RedisAuth } from "@meridian/core";
import { Redis } from "ioredis";

export interface RedisOptions {
  /** Logical database (0-15); overrides any /<db> in the URL. */
  db?: number;
  /** Prefix ioredis prepends to every key (test isolation, per-region namespaces). */
  keyPrefix?: string;
  /** ACL user / password and TLS (configFromEnv().redisAuth); the password never goes into the URL. */
  auth?: RedisAuth;
}

/** An ioredis client for `url` (redis://host:port[/db]). Connects lazily on the first command. */
export function createRedis(url: string, opts: RedisOptions = {}): Redis {
  return new Redis(url, {
    ...(opts.db !== undefined ? { db: opts.db } : {}),
    ...(opts.keyPrefix !== undefined ? { keyPrefix: opts.keyPrefix } : {}),
    ...(opts.auth?.username ? { username: opts.auth.username } : {}),
    ...(opts.auth?.password ? { password: opts.auth.password.reveal() } : {}),
    ...(opts.auth?.tls ? { tls: {} } : {}),
    // Fail commands fast instead of queueing forever while Redis is down; callers get a typed error.
    maxRetriesPerRequest: 2,
    enableOfflineQueue: true,
  });
}

/** Resolves when Redis answers PING; otherwise throws BackendUnavailableError. */
export async function checkRedis(redis: Redis): Promise<void> {
  try {
    const reply = await redis.ping();
    if (reply !== "PONG") throw new Error(`unexpected PING reply ${reply}`);
  } catch (err) {
    throw new BackendUnavailableError(`Redis unavailable: ${(err as Error).message}`, { backend: "redis" });
  }
}
