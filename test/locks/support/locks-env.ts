// Shared setup for lock tests: real Redis, a private key prefix per run, cleanup by prefix.
import { type ChildProcessByStdio, spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import type { Readable, Writable } from "node:stream";
import { fileURLToPath } from "node:url";
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
    /** A program of test/locks/fixtures as a child process on this run's Redis DB and prefix. */
    spawnFixture: (fixture: string, resource: string, ttlMs: number): LockFixture =>
      spawn(
        process.execPath,
        ["--import", "tsx", fixturePath(fixture), url, String(LOCK_TEST_DB), prefix, resource, String(ttlMs)],
        { cwd: fileURLToPath(new URL("../../..", import.meta.url)), stdio: ["pipe", "pipe", "inherit"] },
      ),
    async cleanup() {
      const keys = await admin.keys(`${prefix}*`);
      if (keys.length > 0) await admin.del(...keys);
      for (const c of clients) c.disconnect();
    },
  };
}

/** A fixture child: commands on stdin, what it did on stdout, its errors on the test's stderr. */
export type LockFixture = ChildProcessByStdio<Writable, Readable, null>;

const fixturePath = (name: string) => fileURLToPath(new URL(`../fixtures/${name}.ts`, import.meta.url));

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function waitUntil(cond: () => Promise<boolean> | boolean, timeoutMs: number, stepMs = 20) {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (await cond()) return true;
    await sleep(stepMs);
  }
  return cond();
}
