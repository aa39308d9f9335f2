// Redis (L2) client factory and health check.
import { BackendUnavailableError, type RedisAuth } from "@meridian/core";
import { Redis } from "ioredis";
import { withDeadline } from "./deadline.js";

export interface RedisOptions {
  /** Logical database (0-15); overrides any /<db> in the URL. */
  db?: number;
  /** Prefix ioredis prepends to every key (test isolation, per-region namespaces). */
  keyPrefix?: string;
  /** A command without a reply after this long fails (default 1000 ms; a frozen server answers nothing). */
  commandTimeoutMs?: number;
  /** TCP connect bound (default 2000 ms). */
  connectTimeoutMs?: number;
  /** ACL user / password and TLS (configFromEnv().redisAuth); the password never goes into the URL. */
  auth?: RedisAuth;
}

/** Timeout settings every Meridian Redis client uses; exported so callers building their own agree. */
export function boundedRedisOptions(opts: Pick<RedisOptions, "commandTimeoutMs" | "connectTimeoutMs"> = {}) {
  return {
    commandTimeout: opts.commandTimeoutMs ?? 1_000,
    connectTimeout: opts.connectTimeoutMs ?? 2_000,
    // A command queued while the connection is down fails after two reconnect attempts, not never.
    maxRetriesPerRequest: 2,
    // Commands issued during a short reconnect wait for it (bounded by the two settings above).
    enableOfflineQueue: true,
  };
}

/** An ioredis client for `url` (redis://host:port[/db]). Connects lazily on the first command. */
export function createRedis(url: string, opts: RedisOptions = {}): Redis {
  return new Redis(url, {
    ...(opts.db !== undefined ? { db: opts.db } : {}),
    ...(opts.keyPrefix !== undefined ? { keyPrefix: opts.keyPrefix } : {}),
    ...boundedRedisOptions(opts),
    ...(opts.auth?.username ? { username: opts.auth.username } : {}),
    ...(opts.auth?.password ? { password: opts.auth.password.reveal() } : {}),
    ...(opts.auth?.tls ? { tls: {} } : {}),
  });
}

/** Resolves when Redis answers PING; otherwise throws BackendUnavailableError. */
export async function checkRedis(redis: Redis, timeoutMs = 2_000): Promise<void> {
  try {
    const reply = await withDeadline("redis", "PING", timeoutMs, redis.ping());
    if (reply !== "PONG") throw new Error(`unexpected PING reply ${reply}`);
  } catch (err) {
    throw new BackendUnavailableError(`Redis unavailable: ${(err as Error).message}`, { backend: "redis" });
  }
}

/**
 * Deletes every key that starts with `prefix` (a test run's or a namespace's keys), in SCAN batches so
 * the server never blocks on one huge command. Works with and without the client's own keyPrefix
 * (SCAN sees full names; UNLINK through such a client would prefix them again). Returns how many.
 */
export async function deleteKeysWithPrefix(redis: Redis, prefix: string): Promise<number> {
  const clientPrefix = redis.options.keyPrefix ?? "";
  let cursor = "0";
  let deleted = 0;
  do {
    const [next, keys] = await redis.scan(cursor, "MATCH", `${clientPrefix}${prefix}*`, "COUNT", 1000);
    cursor = next;
    if (keys.length > 0) deleted += await redis.unlink(...keys.map((k) => k.slice(clientPrefix.length)));
  } while (cursor !== "0");
  return deleted;
}
