// Locks against a private redis-server that is restarted empty or frozen (SIGSTOP): fencing tokens stay
// strictly monotonic across the loss of every counter, and every wait stays bounded while Redis is frozen.
import { randomUUID } from "node:crypto";
import { type RedisServerProcess, startRedisServer } from "@meridian/cluster";
import { BackendUnavailableError, configFromEnv, DeadlockError, LockTimeoutError } from "@meridian/core";
import { LockManager, pgFenceEpochs } from "@meridian/locks";
import { Redis } from "ioredis";
import type pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createPrivateSchema, type PrivateSchema } from "../../bench/lib/pg-schema.js";

let server: RedisServerProcess;
let db: PrivateSchema;
let pool: pg.Pool;
const clients: Redis[] = [];

function client(): Redis {
  const c = new Redis(server.url, { maxRetriesPerRequest: 2, commandTimeout: 2_000 });
  c.on("error", () => {});
  clients.push(c);
  return c;
}

const manager = (prefix: string, extra: Partial<ConstructorParameters<typeof LockManager>[1]> = {}) =>
  new LockManager(client(), { prefix, watchdog: false, fenceEpochs: pgFenceEpochs(pool), ...extra });

beforeAll(async () => {
  server = await startRedisServer();
  db = await createPrivateSchema(configFromEnv().pgUrl, `locks_faults_${randomUUID().slice(0, 8)}`, 4);
  pool = db.pool;
});

afterAll(async () => {
  for (const c of clients) c.disconnect();
  await server.stop();
  await db.drop();
});

describe("durable fencing tokens", () => {
  it("a holder after a Redis restart (counters lost) gets a token above every token issued before", async () => {
    const prefix = `fence-restart:${randomUUID().slice(0, 6)}:`;
    const before: number[] = [];
    const m = manager(prefix);
    for (let i = 0; i < 5; i++) {
      const h = await m.acquire("acct", { ttlMs: 5_000 });
      before.push(h.fence);
      await h.release();
    }
    const stale = await m.acquire("acct", { ttlMs: 60_000 }); // a live holder that will not notice
    await server.restartEmpty();
    // A new client and the old one (reconnected) both get tokens above the stale holder's, every time.
    for (const mm of [manager(prefix), m]) {
      for (let i = 0; i < 3; i++) {
        const h = await mm.acquire("acct", { ttlMs: 5_000, waitMs: 5_000 });
        expect(h.fence).toBeGreaterThan(stale.fence);
        expect(h.fence).toBeGreaterThan(Math.max(...before));
        before.push(h.fence);
        await h.release();
      }
    }
    expect(before).toEqual([...before].sort((a, b) => a - b));
    expect(new Set(before).size).toBe(before.length);
  });

  it("tokens stay strictly increasing in grant order across repeated restarts while clients contend", async () => {
    const prefix = `fence-many:${randomUUID().slice(0, 6)}:`;
    const managers = Array.from({ length: 4 }, () => manager(prefix));
    const grants: number[] = [];
    let stop = false;
    const workers = managers.map(async (m) => {
      while (!stop) {
        try {
          const h = await m.acquire("hot", { ttlMs: 2_000, waitMs: 3_000 });
          grants.push(h.fence); // pushed while holding: grant order
          await h.release().catch(() => {});
        } catch (err) {
          if (!(err instanceof BackendUnavailableError) && !(err instanceof LockTimeoutError)) throw err;
        }
      }
    });
    for (let r = 0; r < 3; r++) {
      await new Promise((res) => setTimeout(res, 150));
      await server.restartEmpty();
    }
    await new Promise((res) => setTimeout(res, 300));
    stop = true;
    await Promise.all(workers);
    expect(grants.length).toBeGreaterThan(10);
    // Each holder records its token while holding the lock, so the list is in grant order.
    expect(grants).toEqual([...grants].sort((a, b) => a - b));
    expect(new Set(grants).size).toBe(grants.length);
  });
});

describe("bounded waits while Redis is frozen (SIGSTOP)", () => {
  it("acquire honours waitMs and fails with BackendUnavailableError; nothing is left locked after the thaw", async () => {
    const prefix = `frozen:${randomUUID().slice(0, 6)}:`;
    const m = manager(prefix, { commandTimeoutMs: 500 });
    const warm = await m.acquire("r", { ttlMs: 5_000 }); // the epoch is installed before the freeze
    await warm.release();
    server.freeze();
    try {
      const start = performance.now();
      const err = await m.acquire("r", { ttlMs: 5_000, waitMs: 300 }).catch((e: unknown) => e);
      const took = performance.now() - start;
      expect(err).toBeInstanceOf(BackendUnavailableError);
      expect(took).toBeLessThan(1_000);
      const renewErr = await m.renew("r", "nobody|x", 1_000).catch((e: unknown) => e);
      expect(renewErr).toBeInstanceOf(BackendUnavailableError);
    } finally {
      server.thaw();
    }
    // The abandoned attempt ran after the thaw, and the release queued behind it undid it.
    await new Promise((res) => setTimeout(res, 200));
    expect(await m.holderToken("r")).toBeNull();
  });
});

describe("deadlock detection by default", () => {
  it("two clients (no owner passed) taking two locks in opposite order: one gets DeadlockError fast", async () => {
    const prefix = `dl-default:${randomUUID().slice(0, 6)}:`;
    const c1 = manager(prefix);
    const c2 = manager(prefix);
    const a = await c1.acquire("A", { ttlMs: 20_000 });
    const b = await c2.acquire("B", { ttlMs: 20_000 });
    const start = performance.now();
    const results = await Promise.allSettled(
      [
        c1.acquire("B", { ttlMs: 20_000, waitMs: 10_000 }).then(async (h) => {
          await h.release();
          return h;
        }),
        c2
          .acquire("A", { ttlMs: 20_000, waitMs: 10_000 })
          .then(async (h) => {
            await h.release();
            return h;
          }),
        // The victim releases what it holds (as a caller catching DeadlockError would), so the other proceeds.
      ].map((p, i) =>
        p.catch(async (err: unknown) => {
          await (i === 0 ? a : b).release();
          throw err;
        }),
      ),
    );
    const took = performance.now() - start;
    const failed = results.filter((r) => r.status === "rejected");
    expect(failed).toHaveLength(1);
    expect((failed[0] as PromiseRejectedResult).reason).toBeInstanceOf(DeadlockError);
    expect(took).toBeLessThan(3_000);
    await Promise.allSettled([a.release(), b.release()]);
  });
});
