// StrongConsistencyCache against real Redis and PostgreSQL: reads, writes, invalidation, leases, fencing,
// failure atomicity, input validation, CAS, transactions, freshness options.

import {
  BackendUnavailableError,
  FencingTokenError,
  InvalidInputError,
  LockNotHeldError,
  REGIONS,
  StalenessBoundError,
} from "@meridian/core";
import { RegionCache, StrongConsistencyCache, StrongSession } from "@meridian/strong";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { installCommitFaults, sleep, strongTestEnv } from "../support/strong-env.js";

let env: Awaited<ReturnType<typeof strongTestEnv>>;
beforeAll(async () => {
  env = await strongTestEnv("cache");
});
afterAll(() => env.cleanup());

describe("reads and writes", () => {
  it("returns the latest committed write in every region, with version, region and age", async () => {
    const east = env.cache("us-east");
    const w1 = await east.setWithStrongConsistency("acct:1", { balance: 100 });
    const w2 = await east.setWithStrongConsistency("acct:1", { balance: 250 });
    expect(w2.version).toBe(w1.version + 1);
    for (const region of REGIONS) {
      const c = env.cache(region);
      const first = await c.getWithStrongConsistency<{ balance: number }>("acct:1");
      expect(first).toMatchObject({ value: { balance: 250 }, version: w2.version, region });
      const again = await c.getWithStrongConsistency("acct:1");
      expect(again.source).toBe("cache");
      expect(again.ageMs).toBeGreaterThanOrEqual(0);
      expect(again.value).toEqual({ balance: 250 });
    }
    const missing = await east.getWithStrongConsistency("acct:none");
    expect(missing).toMatchObject({ value: undefined, version: 0 });
  });

  it("invalidates every other region's copy before the write resolves", async () => {
    const east = env.cache("us-east");
    const west = env.cache("eu-west");
    await east.setWithStrongConsistency("acct:2", 1);
    await west.getWithStrongConsistency("acct:2"); // eu-west now holds a copy
    expect((await west.peekLocal("acct:2"))?.json).toBe("1");
    const w = await east.setWithStrongConsistency("acct:2", 2);
    expect(await west.peekLocal("acct:2")).toBeUndefined();
    expect((await east.peekLocal("acct:2"))?.version).toBe(w.version); // written through locally
    expect((await west.getWithStrongConsistency("acct:2")).value).toBe(2);
  });

  it("a slow reader holding a lease cannot put back a value older than a concurrent write", async () => {
    const east = env.cache("us-east");
    await east.setWithStrongConsistency("acct:3", "old");
    const region = new RegionCache("ap-south", env.redis["ap-south"], env.keyPrefix);
    await env.redis["ap-south"].del(`${env.keyPrefix}e:acct:3`);
    const lease = await region.lookup("acct:3", "slow-reader", 5_000);
    expect(lease.kind).toBe("lease");
    const stale = await east.table.read("acct:3"); // the slow reader's DB read, before the write
    await east.setWithStrongConsistency("acct:3", "new");
    expect(await region.fill("acct:3", "slow-reader", stale.json!, stale.version, 0)).toBe(false);
    expect((await env.cache("ap-south").getWithStrongConsistency("acct:3")).value).toBe("new");
  });

  it("compare-and-set succeeds only on the expected value", async () => {
    const c = env.cache("us-west");
    expect((await c.compareAndSet("cas:1", undefined, { n: 1 })).ok).toBe(true);
    const bad = await c.compareAndSet("cas:1", { n: 5 }, { n: 6 });
    expect(bad).toMatchObject({ ok: false, current: { n: 1 } });
    const good = await c.compareAndSet("cas:1", { n: 1 }, { n: 2 });
    expect(good.ok).toBe(true);
    expect((await env.cache("ap-northeast").getWithStrongConsistency("cas:1")).value).toEqual({ n: 2 });
  });

  it("transactions are atomic: concurrent transfers conserve the total in every region", async () => {
    const keys = ["bal:a", "bal:b", "bal:c"];
    await env.cache("us-east").transaction(keys, (tx) => {
      for (const k of keys) tx.set(k, 1_000);
    });
    const workers = REGIONS.map((region, i) =>
      (async () => {
        const c = env.cache(region);
        for (let j = 0; j < 15; j++) {
          const from = keys[(i + j) % 3]!;
          const to = keys[(i + j + 1) % 3]!;
          await c.transaction([from, to], (tx) => {
            tx.set(from, tx.get<number>(from)! - 7);
            tx.set(to, tx.get<number>(to)! + 7);
          });
        }
      })(),
    );
    await Promise.all(workers);
    for (const region of REGIONS) {
      const c = env.cache(region);
      const values = await Promise.all(keys.map((k) => c.getWithStrongConsistency<number>(k)));
      expect(values.reduce((s, v) => s + v.value!, 0)).toBe(3_000);
    }
  });
});

describe("fencing", () => {
  it("rejects the late write of a holder paused beyond its ttl, in PostgreSQL and in the Redis set", async () => {
    const c = env.cache("us-east");
    const paused = await c.acquireLock("lock:order:9", { ttlMs: 150, watchdog: false });
    await sleep(300); // the holder stalls; its lock expires
    const next = await c.acquireLock("lock:order:9", { ttlMs: 5_000, waitMs: 0, watchdog: false });
    expect(next.fence).toBeGreaterThan(paused.fence);
    const ok = await c.setWithStrongConsistency("order:9", { state: "filled" }, next);
    expect(ok.fence).toBe(next.fence);
    await expect(
      c.setWithStrongConsistency("order:9", { state: "cancelled" }, paused),
    ).rejects.toBeInstanceOf(FencingTokenError);
    expect(await c.table.read("order:9")).toEqual({ json: '{"state": "filled"}', version: ok.version });
    expect((await c.getWithStrongConsistency("order:9")).value).toEqual({ state: "filled" });
    // The Redis half: a cache set carrying an older fencing token (or version) is refused by the Lua script.
    expect(await c.setLocalIfNewer("order:9", { state: "cancelled" }, ok.version + 1, paused.fence)).toBe(
      "staleFence",
    );
    expect(await c.setLocalIfNewer("order:9", { state: "old" }, ok.version - 1)).toBe("olderVersion");
    expect((await c.getWithStrongConsistency("order:9")).value).toEqual({ state: "filled" });
    await next.release();
  });
});

describe("failures leave nothing half-applied", () => {
  beforeAll(async () => {
    await installCommitFaults(env.pool);
  });

  for (const [fault, errorClass] of [
    ["poison", Error],
    ["kill", BackendUnavailableError],
  ] as const) {
    it(`a ${fault === "kill" ? "lost connection" : "failing commit"} rolls back, writes no cache and frees the lock`, async () => {
      const east = env.cache("us-east");
      const west = env.cache("us-west");
      const key = `fault:${fault}`;
      const before = await east.setWithStrongConsistency(key, { v: 1 });
      await west.getWithStrongConsistency(key); // a remote copy exists
      const err = await east
        .setWithStrongConsistency(key, { [fault]: true }, `lock:${key}`)
        .catch((e: unknown) => e);
      expect(err).toBeInstanceOf(errorClass);
      if (fault === "poison") expect(String(err)).toMatch(/injected commit failure/);
      expect(await east.table.read(key)).toMatchObject({ version: before.version });
      for (const region of REGIONS) {
        const peek = await env.cache(region).peekLocal(key);
        if (peek) expect(peek.version).toBe(before.version);
        expect(await env.redis[region].exists(`${env.keyPrefix}p:${key}`)).toBe(0); // markers cleared
      }
      expect(await env.locks.holderToken(`lock:${key}`)).toBeNull();
      expect((await west.getWithStrongConsistency(key)).value).toEqual({ v: 1 });
      expect((await east.getWithStrongConsistency(key)).version).toBe(before.version);
    });
  }
});

describe("an unreachable region", () => {
  it("refuses the write (nothing committed) when a region's copy cannot be invalidated", async () => {
    const dead = new Redis("redis://127.0.0.1:1", { maxRetriesPerRequest: 1, retryStrategy: () => 20 });
    dead.on("error", () => {});
    try {
      const east = env.cache("us-east");
      const before = await east.setWithStrongConsistency("partitioned:1", "before");
      const cut = new StrongConsistencyCache(env.redis["us-east"], env.pool, {
        region: "us-east",
        peers: { ...env.redis, "ap-south": dead },
        keyPrefix: env.keyPrefix,
        locks: env.locks,
      });
      await expect(
        cut.setWithStrongConsistency("partitioned:1", "after", "lock:partitioned:1"),
      ).rejects.toBeInstanceOf(BackendUnavailableError);
      expect(await east.table.read("partitioned:1")).toMatchObject({ version: before.version });
      expect((await env.cache("us-west").getWithStrongConsistency("partitioned:1")).value).toBe("before");
      expect(await env.locks.holderToken("lock:partitioned:1")).toBeNull();
    } finally {
      dead.disconnect();
    }
  });
});

describe("input validation", () => {
  it("rejects empty keys, unserializable values and values above the size cap", async () => {
    const c = env.cache("us-east", { maxValueBytes: 64 });
    const circular: Record<string, unknown> = {};
    circular.self = circular;
    const bad: [string, unknown][] = [
      ["", 1],
      ["k", undefined],
      ["k", () => 1],
      ["k", { x: Number.NaN }],
      ["k", circular],
      ["k", 10n],
      ["k", "x".repeat(100)],
    ];
    for (const [key, value] of bad) {
      await expect(c.setWithStrongConsistency(key, value)).rejects.toBeInstanceOf(InvalidInputError);
    }
    await expect(c.getWithStrongConsistency("")).rejects.toBeInstanceOf(InvalidInputError);
    await expect(c.transaction([], () => {})).rejects.toBeInstanceOf(InvalidInputError);
    expect(await c.table.read("k")).toEqual({ json: undefined, version: 0 });
  });

  it("refuses a region or peer name outside the five regions, naming the known ones", () => {
    const make = (region: string, peers = {}) =>
      new StrongConsistencyCache(env.redis["us-east"], env.pool, {
        region: region as "us-east",
        peers,
        keyPrefix: env.keyPrefix,
        locks: env.locks,
      });
    expect(() => make("mars")).toThrow(InvalidInputError);
    expect(() => make("mars")).toThrow(/known: us-east/);
    expect(() => make("us-east", { "eu-wset": env.redis["eu-west"] })).toThrow(InvalidInputError);
    expect(make("us-east", env.redis).region).toBe("us-east");
  });
});

describe("freshness options", () => {
  it("honours minVersion, maxAgeMs and a session carried across regions", async () => {
    const east = env.cache("us-east");
    const asia = env.cache("ap-northeast");
    const session = new StrongSession();
    const w = await east.setWithStrongConsistency("fresh:1", "v1", undefined, { session });
    const token = session.encode();
    const r = await asia.getWithStrongConsistency("fresh:1", { session: StrongSession.decode(token) });
    expect(r.version).toBeGreaterThanOrEqual(w.version);
    await expect(
      asia.getWithStrongConsistency("fresh:1", { minVersion: w.version + 5 }),
    ).rejects.toBeInstanceOf(StalenessBoundError);
    await asia.getWithStrongConsistency("fresh:1");
    await sleep(20);
    const cached = await asia.getWithStrongConsistency("fresh:1");
    expect(cached.source).toBe("cache");
    const bounded = await asia.getWithStrongConsistency("fresh:1", { maxAgeMs: 5 });
    expect(bounded).toMatchObject({ source: "database", ageMs: 0, value: "v1" });
    expect(() => StrongSession.decode("%%%")).toThrow(InvalidInputError);
  });
});

describe("lock methods", () => {
  it("a lock's name and token alone are enough to renew and release it, compare-and-act (locks.renew / locks.release)", async () => {
    const c = env.cache("eu-west");
    const h = await c.acquireLock("lock:seed", { ttlMs: 5_000 });
    expect(h.ttlMs).toBe(5_000);
    await c.locks.renew("lock:seed", h.token, 10_000);
    await expect(c.locks.release("lock:seed", "someone-else|token")).rejects.toBeInstanceOf(LockNotHeldError);
    await c.locks.release("lock:seed", h.token);
    await expect(c.locks.renew("lock:seed", h.token, 10_000)).rejects.toBeInstanceOf(LockNotHeldError);
    expect(await env.locks.holderToken("lock:seed")).toBeNull();
    h.abandon();
  });

  it("name/ttl and name/token call shapes from untyped JS are refused with InvalidInputError and act on no lock", async () => {
    const c = env.cache("eu-west");
    const untyped = c as unknown as Record<
      "acquireLock" | "releaseLock" | "renewLock",
      (...a: unknown[]) => Promise<unknown>
    >;
    await expect(untyped.acquireLock("lock:oldshape", 5_000)).rejects.toBeInstanceOf(InvalidInputError);
    expect(await env.locks.holderToken("lock:oldshape")).toBeNull();

    const h = await c.acquireLock("lock:oldshape", { ttlMs: 5_000 });
    await expect(untyped.renewLock("lock:oldshape", h.token, 60_000)).rejects.toBeInstanceOf(
      InvalidInputError,
    );
    await expect(untyped.renewLock(h, "not-a-ttl")).rejects.toBeInstanceOf(InvalidInputError);
    const lockTtlMs = await env.redis["us-east"].pttl(`${env.keyPrefix}lock:l:lock:oldshape`);
    expect(lockTtlMs).toBeGreaterThan(0);
    expect(lockTtlMs).toBeLessThanOrEqual(5_000); // not extended to 60 s
    await expect(untyped.releaseLock("lock:oldshape", h.token)).rejects.toBeInstanceOf(InvalidInputError);
    expect(await env.locks.holderToken("lock:oldshape")).toBe(h.token); // still held: nothing was released
    await c.releaseLock(h);
    expect(await env.locks.holderToken("lock:oldshape")).toBeNull();
  });

  it("a read under a lock takes it as options.lock; a lock name second or options third are refused", async () => {
    const c = env.cache("eu-west");
    await c.setWithStrongConsistency("locked-read:1", 7);
    const untyped = c as unknown as { getWithStrongConsistency: (...a: unknown[]) => Promise<unknown> };
    await expect(untyped.getWithStrongConsistency("locked-read:1", "lock:rd")).rejects.toBeInstanceOf(
      InvalidInputError,
    );
    await expect(
      untyped.getWithStrongConsistency("locked-read:1", undefined, { minVersion: 99 }),
    ).rejects.toBeInstanceOf(InvalidInputError);
    await expect(untyped.getWithStrongConsistency("locked-read:1", { lock: 42 })).rejects.toBeInstanceOf(
      InvalidInputError,
    );
    expect(await env.locks.holderToken("lock:rd")).toBeNull(); // the refused calls took no lock

    const held = await c.acquireLock("lock:rd", { ttlMs: 5_000 });
    const read = c.getWithStrongConsistency("locked-read:1", { lock: "lock:rd" });
    await new Promise((r) => setTimeout(r, 100));
    expect(await env.locks.holderToken("lock:rd")).toBe(held.token); // the read waits for the lock
    await c.releaseLock(held);
    expect((await read).value).toBe(7);
    expect(await env.locks.holderToken("lock:rd")).toBeNull(); // and releases it after reading
  });
});
