// Shared setup for lock tests: real Redis, a private key prefix per run, cleanup by prefix.
import { randomUUID } from "node:crypto";
import { configFromEnv } from "@meridian/core";
import { LockManager, type LockManagerOptions } from "@meridian/locks";
import { Redis } from "ioredis";

export const LOCK_TEST_DB = Number(process.env.MERIDIAN_LOCK_TEST_DB ?? 9);

export function lockTestEnv(label: string) {
  const url = configFromEnv().redisUrl;
  const prefix = `test:${label}:${randomUUID().slice(0, 8)}:`;
  const clients: Redis[] = [];
  const client = () => {
    const c = new Redis(url, { db: LOCK_TEST_DB, maxRetriesPerRequest: 3 });
    c.on("error", () => {});
    clients.push(c);
    return c;
  };
  const admin = client();
  return {
    url,
    prefix,
    admin,
    client,
    manager: (opts: LockManagerOptions = {}) => new LockManager(client(), { prefix, ...opts }),
    async cleanup() {
      const keys = await admin.keys(`${prefix}*`);
      if (keys.length > 0) await admin.del(...keys);
      for (const c of clients) c.disconnect();
    },
  };
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function waitUntil(cond: () => Promise<boolean> | boolean, timeoutMs: number, stepMs = 20) {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (await cond()) return true;
    await sleep(stepMs);
  }
  return cond();
}
