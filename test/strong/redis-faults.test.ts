// The strong tier on a private redis-server (five regions = five DBs of it) that is restarted empty or
// frozen with SIGSTOP: fencing survives the loss of every lock counter, a slow reader never caches a
// version older than an acknowledged write, and every operation fails fast instead of hanging.
import { randomUUID } from "node:crypto";
import { type RedisServerProcess, startRedisServer } from "@meridian/cluster";
import {
  BackendUnavailableError,
  configFromEnv,
  DeadlockError,
  FencingTokenError,
  REGIONS,
  type Region,
} from "@meridian/core";
import { LockHandle, LockManager, pgFenceEpochs } from "@meridian/locks";
import { StrongConsistencyCache } from "@meridian/strong";
import { Redis } from "ioredis";
import type pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createPrivateSchema, type PrivateSchema } from "../../bench/lib/pg-schema.js";

let server: RedisServerProcess;
let db: PrivateSchema | undefined;
let pool: pg.Pool;
const keyPrefix = "sf:";
let regions: Record<Region, Redis>;
let locks: LockManager;

// Plain clients with no command timeout of their own: the bounds under test are the library's.
function regionClients(url: string): Record<Region, Redis> {
  const out = {} as Record<Region, Redis>;
  REGIONS.forEach((r, i) => {
    const c = new Redis(url, { db: 10 + i });
    c.on("error", () => {});
    out[r] = c;
  });
  return out;
}

const cache = (region: Region) =>
  new StrongConsistencyCache(regions[region], pool, { region, peers: regions, keyPrefix, locks });

beforeAll(async () => {
  server = await startRedisServer();
  db = await createPrivateSchema(configFromEnv().pgUrl, `strong_faults_${randomUUID().slice(0, 8)}`, 8);
  pool = db.pool;
  regions = regionClients(server.url);
  locks = new LockManager(regions["us-east"], {
    prefix: `${keyPrefix}lock:`,
    watchdog: false,
    fenceEpochs: pgFenceEpochs(pool),
  });
  await cache("us-east").init();
  // A commit that takes `slow` seconds (deferred trigger): a write caught between invalidation and commit.
  await pool.query(`
    CREATE FUNCTION slow_commit() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      IF NEW.value ? 'slow' THEN PERFORM pg_sleep((NEW.value->>'slow')::float); END IF;
      RETURN NEW;
    END $$;
    CREATE CONSTRAINT TRIGGER slow_commit AFTER INSERT OR UPDATE ON meridian_strong
      DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION slow_commit();`);
});

afterAll(async () => {
  for (const c of Object.values(regions ?? {})) c.disconnect();
  await server?.stop();
  await db?.drop();
});

describe("fencing across a Redis restart", () => {
  it("a stale holder cannot overwrite the value of a holder that acquired after Redis lost its counters", async () => {
    const c = cache("us-east");
    for (let i = 0; i < 3; i++) await (await c.acquireLock("lock:acct:1")).release();
    const stale = await c.acquireLock("lock:acct:1", { ttlMs: 60_000 });
    await server.restartEmpty();
    const fresh = await c.acquireLock("lock:acct:1", { ttlMs: 10_000, waitMs: 5_000 });
    expect(fresh.fence).toBeGreaterThan(stale.fence);
    const ok = await c.setWithStrongConsistency("acct:1", { owner: "fresh" }, fresh);
    // The same holder may write again under the same acquisition.
    const again = await c.setWithStrongConsistency("acct:1", { owner: "fresh", n: 2 }, fresh);
    expect(again.version).toBe(ok.version + 1);
    await expect(c.setWithStrongConsistency("acct:1", { owner: "stale" }, stale)).rejects.toBeInstanceOf(
      FencingTokenError,
    );
    for (const r of REGIONS) {
      expect((await cache(r).getWithStrongConsistency("acct:1")).value).toEqual({ owner: "fresh", n: 2 });
    }
    await fresh.release();
  });

  it("an equal token from a different holder is refused, in PostgreSQL and in the Redis set", async () => {
    const c = cache("us-east");
    const h = await c.acquireLock("lock:acct:2");
    const w = await c.setWithStrongConsistency("acct:2", { v: "legit" }, h);
    // What a reused token looks like: the same number, carried by another acquisition.
    const twin = new LockHandle(locks, h.resource, `other|${randomUUID()}`, h.fence, "other", 30_000, 0);
    await expect(c.setWithStrongConsistency("acct:2", { v: "twin" }, twin)).rejects.toBeInstanceOf(
      FencingTokenError,
    );
    expect(await c.setLocalIfNewer("acct:2", { v: "twin" }, w.version + 1, h.fence, twin.token)).toBe(
      "staleFence",
    );
    expect(await c.setLocalIfNewer("acct:2", { v: "legit2" }, w.version + 1, h.fence, h.token)).toBe("set");
    expect((await c.table.read("acct:2")).json).toBe('{"v": "legit"}');
    await h.release();
    twin.abandon();
  });
});

describe("no stale fill after a Redis restart", () => {
  it("a reader slow between its PostgreSQL read and its fill never caches a version older than an acknowledged write", async () => {
    const writer = cache("us-east");
    await writer.setWithStrongConsistency("bal:1", { v: 1 });
    // The reader's database answers arrive 2 s late (a slow reader, injected in the test by a pool wrapper).
    const slowPool = new Proxy(pool, {
      get(target, prop, receiver) {
        if (prop !== "query") return Reflect.get(target, prop, receiver);
        return async (...args: Parameters<pg.Pool["query"]>) => {
          const r = await (target.query as (...a: unknown[]) => Promise<unknown>)(...args);
          await new Promise((res) => setTimeout(res, 2_000));
          return r;
        };
      },
    });
    const slowReader = new StrongConsistencyCache(regions["eu-west"], slowPool, {
      region: "eu-west",
      peers: regions,
      keyPrefix,
      locks,
      leaseTtlMs: 10_000, // its lease outlives the delay: only the protocol can refuse the late fill
    });
    // The write invalidates every region, then spends 1.5 s in COMMIT; meanwhile Redis restarts empty,
    // losing the write's "being written" markers.
    const write = writer.setWithStrongConsistency("bal:1", { v: 2, slow: 1.5 });
    await new Promise((r) => setTimeout(r, 300));
    await server.restartEmpty();
    // The reader misses, takes a lease, reads PostgreSQL before the commit, and fills after the ack.
    const during = slowReader.getWithStrongConsistency("bal:1");
    const acked = await write;
    expect((await during).value).toEqual({ v: 1 }); // fine: it overlapped the write
    for (const r of REGIONS) {
      const after = await cache(r).getWithStrongConsistency("bal:1");
      expect(after.version, r).toBe(acked.version);
      expect(after.value, r).toEqual({ v: 2, slow: 1.5 });
    }
  });
});

describe("bounded operations while Redis is frozen (SIGSTOP)", () => {
  it("reads, writes, CAS, transactions and acquireLock fail fast with BackendUnavailableError; no row lock is held", async () => {
    const c = cache("us-east");
    await c.setWithStrongConsistency("frozen:1", { v: 1 });
    server.freeze();
    try {
      const ops: [string, () => Promise<unknown>][] = [
        ["read", () => c.getWithStrongConsistency("frozen:1")],
        ["write", () => c.setWithStrongConsistency("frozen:1", { v: 2 })],
        ["cas", () => c.compareAndSet("frozen:1", { v: 1 }, { v: 3 })],
        ["txn", () => c.transaction(["frozen:1"], (tx) => tx.set("frozen:1", { v: 4 }))],
        ["lock", () => c.acquireLock("lock:frozen", { waitMs: 500 })],
      ];
      for (const [name, op] of ops) {
        const start = performance.now();
        const err = await op().catch((e: unknown) => e);
        const took = performance.now() - start;
        expect(err, name).toBeInstanceOf(BackendUnavailableError);
        expect(took, name).toBeLessThan(2_500);
      }
      // Nobody sits "idle in transaction" on the row: another session can lock it at once.
      const probe = await db!.admin.connect();
      try {
        await probe.query("BEGIN");
        await probe.query("SET LOCAL lock_timeout = 200");
        const r = await probe.query(
          `SELECT value FROM ${db!.name}.meridian_strong WHERE key = $1 FOR UPDATE`,
          ["frozen:1"],
        );
        expect(r.rows[0].value).toEqual({ v: 1 });
        await probe.query("ROLLBACK");
      } finally {
        probe.release();
      }
    } finally {
      server.thaw();
    }
    await new Promise((r) => setTimeout(r, 200));
    expect((await c.getWithStrongConsistency("frozen:1")).value).toEqual({ v: 1 });
    const w = await c.setWithStrongConsistency("frozen:1", { v: 5 });
    expect((await cache("ap-south").getWithStrongConsistency("frozen:1")).version).toBe(w.version);
  });
});

describe("deadlock detection by default at the cache level", () => {
  it("two caches sharing one lock manager, locks taken in opposite order: one DeadlockError, fast", async () => {
    const c1 = cache("us-east");
    const c2 = cache("eu-west");
    const a = await c1.acquireLock("lock:dl:A");
    const b = await c2.acquireLock("lock:dl:B");
    const start = performance.now();
    const results = await Promise.allSettled([
      c1.acquireLock("lock:dl:B", { waitMs: 10_000 }).catch(async (err: unknown) => {
        await a.release();
        throw err;
      }),
      c2.acquireLock("lock:dl:A", { waitMs: 10_000 }).catch(async (err: unknown) => {
        await b.release();
        throw err;
      }),
    ]);
    const failed = results.filter((r) => r.status === "rejected");
    expect(failed).toHaveLength(1);
    expect((failed[0] as PromiseRejectedResult).reason).toBeInstanceOf(DeadlockError);
    expect(performance.now() - start).toBeLessThan(3_000);
    for (const r of results) if (r.status === "fulfilled") await r.value.release();
    await Promise.allSettled([a.release(), b.release()]);
  });
});

describe("a Redis that comes back with old data (snapshot restore)", () => {
  it("copies from before the restart are not served: the new run_id invalidates them", async () => {
    const writer = cache("us-east");
    const reader = cache("ap-south");
    await writer.setWithStrongConsistency("snap:1", { v: 1 });
    expect((await reader.getWithStrongConsistency("snap:1")).value).toEqual({ v: 1 }); // ap-south fills v1
    expect((await reader.peekLocal("snap:1"))?.version).toBe(1);
    await regions["ap-south"].save(); // the snapshot holds ap-south's copy of v1
    const w2 = await writer.setWithStrongConsistency("snap:1", { v: 2 }); // invalidates it (after the snapshot)
    await server.restartFromSnapshot(); // ...and the server comes back without that invalidation
    for (const r of REGIONS) {
      const got = await cache(r).getWithStrongConsistency("snap:1");
      expect(got.version, r).toBe(w2.version);
      expect(got.value, r).toEqual({ v: 2 });
    }
  });
});
