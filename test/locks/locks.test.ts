// Distributed locks against the real Redis: exclusion, fencing, watchdog, deadlock detection, escalation.
import {
  BackendUnavailableError,
  DeadlockError,
  InvalidInputError,
  LockNotHeldError,
  LockTimeoutError,
} from "@meridian/core";
import { keyResource, LockEscalator, LockManager, namespaceResource } from "@meridian/locks";
import { Redis } from "ioredis";
import { afterAll, describe, expect, it } from "vitest";
import { lockTestEnv, sleep } from "./support/locks-env.js";

const env = lockTestEnv("locks");
afterAll(() => env.cleanup());

describe("mutual exclusion and fencing", () => {
  it("never lets two holders into the critical section (8 clients x 15 rounds on one lock)", async () => {
    const managers = Array.from({ length: 8 }, (_, i) => env.manager({ owner: `c${i}`, watchdog: false }));
    let inside = 0;
    let maxInside = 0;
    const fences: number[] = [];
    const counterKey = `${env.prefix}counter`;
    await Promise.all(
      managers.map(async (m) => {
        for (let r = 0; r < 15; r++) {
          const h = await m.acquire("mutex", { ttlMs: 5_000, waitMs: 20_000 });
          inside++;
          maxInside = Math.max(maxInside, inside);
          fences.push(h.fence);
          // Non-atomic read-modify-write: loses updates unless the lock really excludes.
          const v = Number((await m.redis.get(counterKey)) ?? 0);
          await sleep(1);
          await m.redis.set(counterKey, String(v + 1));
          inside--;
          await h.release();
        }
      }),
    );
    expect(maxInside).toBe(1);
    expect(Number(await env.admin.get(counterKey))).toBe(120);
    // Fencing tokens are handed out in acquisition order: strictly increasing, no duplicates.
    expect(fences).toEqual([...fences].sort((a, b) => a - b));
    expect(new Set(fences).size).toBe(fences.length);
  });

  it("gives a later holder a larger fencing token than a holder paused beyond its ttl", async () => {
    const a = env.manager({ owner: "paused", watchdog: false });
    const b = env.manager({ owner: "next", watchdog: false });
    const ha = await a.acquire("paused-lock", { ttlMs: 150 });
    await sleep(300); // "GC pause": the lock expires
    const hb = await b.acquire("paused-lock", { ttlMs: 5_000, waitMs: 0 });
    expect(hb.fence).toBeGreaterThan(ha.fence);
    await expect(ha.release()).rejects.toBeInstanceOf(LockNotHeldError);
    expect(await b.holderToken("paused-lock")).toBe(hb.token);
    await hb.release();
  });

  it("times out with LockTimeoutError when the lock stays busy", async () => {
    const a = env.manager({ owner: "busy-holder", watchdog: false });
    const b = env.manager({ owner: "busy-waiter", watchdog: false });
    const h = await a.acquire("busy", { ttlMs: 5_000 });
    await expect(b.acquire("busy", { waitMs: 150 })).rejects.toBeInstanceOf(LockTimeoutError);
    await h.release();
    const h2 = await b.acquire("busy", { waitMs: 150 });
    expect(h2.fence).toBeGreaterThan(h.fence);
    await h2.release();
  });
});

describe("watchdog", () => {
  it("defaults to a 30 s ttl renewed every 10 s (as Redisson)", async () => {
    const m = env.manager();
    const h = await m.acquire("wd-defaults");
    expect(h.ttlMs).toBe(30_000);
    expect(h.watchdogStats).toMatchObject({ running: true, intervalMs: 10_000 });
    const pttl = await env.admin.pttl(m.keys.lock("wd-defaults"));
    expect(pttl).toBeGreaterThan(25_000);
    expect(pttl).toBeLessThanOrEqual(30_000);
    await h.release();
    expect(h.watchdogStats?.running).toBe(false);
  });

  it("keeps a live holder's lock well past its ttl", async () => {
    const m = env.manager({ owner: "live" });
    const h = await m.acquire("wd-live", { ttlMs: 1_500 }); // renews every 500 ms
    await sleep(4_500);
    expect(await m.holderToken("wd-live")).toBe(h.token);
    expect(h.isHeld()).toBe(true);
    expect(h.watchdogStats?.renewals ?? 0).toBeGreaterThanOrEqual(5);
    await h.release();
    expect(await m.holderToken("wd-live")).toBeNull();
  });

  it("drops a dead holder's lock: a killed process stops renewing and the lock expires", async () => {
    const ttl = 2_000;
    const child = env.spawnFixture("holder", "wd-dead", ttl);
    const line = await new Promise<string>((resolve, reject) => {
      child.stdout.on("data", (d: Buffer) => resolve(d.toString()));
      child.on("exit", (code) => reject(new Error(`holder exited early (${code})`)));
    });
    expect(line).toMatch(/^acquired child-holder\|/);
    const m = env.manager({ owner: "survivor", watchdog: false });
    // Alive: its watchdog keeps the lock beyond several ttls.
    await sleep(ttl * 2.5);
    expect(await m.holderToken("wd-dead")).toMatch(/^child-holder\|/);
    child.kill("SIGKILL");
    const killedAt = Date.now();
    const h = await m.acquire("wd-dead", { ttlMs: 5_000, waitMs: ttl + 5_000 });
    const waited = Date.now() - killedAt;
    console.log(`lock of killed holder became free after ${waited} ms (ttl ${ttl} ms)`);
    expect(waited).toBeLessThan(ttl + 4_000); // at most one ttl after the last renewal, plus slack for load
    await h.release();
  });
});

describe("deadlock detection", () => {
  it("detects a 2-cycle and picks the youngest waiter as victim", async () => {
    const a = env.manager({ owner: "dl2-A", watchdog: false });
    const b = env.manager({ owner: "dl2-B", watchdog: false });
    const a1 = await a.acquire("dl2-r1", { ttlMs: 10_000 });
    const b2 = await b.acquire("dl2-r2", { ttlMs: 10_000 });
    const aWaits = a.acquire("dl2-r2", { ttlMs: 10_000, waitMs: 8_000 });
    await sleep(50); // A is the older waiter
    const start = performance.now();
    const bErr = await b.acquire("dl2-r1", { ttlMs: 10_000, waitMs: 8_000 }).catch((e: unknown) => e);
    const detectedMs = performance.now() - start;
    console.log(`2-cycle deadlock detected in ${detectedMs.toFixed(1)} ms`);
    expect(bErr).toBeInstanceOf(DeadlockError);
    expect((bErr as DeadlockError).details.victim).toBe("dl2-B");
    expect(detectedMs).toBeLessThan(1_000);
    await b2.release(); // the victim backs off, A proceeds
    const a2 = await aWaits;
    expect(a2.resource).toBe("dl2-r2");
    await Promise.all([a1.release(), a2.release()]);
  });

  it("detects a 3-cycle", async () => {
    const [a, b, c] = ["dl3-A", "dl3-B", "dl3-C"].map((owner) => env.manager({ owner, watchdog: false }));
    const ha = await a!.acquire("dl3-r1", { ttlMs: 10_000 });
    const hb = await b!.acquire("dl3-r2", { ttlMs: 10_000 });
    const hc = await c!.acquire("dl3-r3", { ttlMs: 10_000 });
    const aWaits = a!.acquire("dl3-r2", { waitMs: 8_000, ttlMs: 10_000 });
    await sleep(30);
    const bWaits = b!.acquire("dl3-r3", { waitMs: 8_000, ttlMs: 10_000 });
    await sleep(30);
    const start = performance.now();
    const cErr = await c!.acquire("dl3-r1", { waitMs: 8_000 }).catch((e: unknown) => e);
    const detectedMs = performance.now() - start;
    console.log(`3-cycle deadlock detected in ${detectedMs.toFixed(1)} ms`);
    expect(cErr).toBeInstanceOf(DeadlockError);
    expect((cErr as DeadlockError).details.cycle).toEqual(["dl3-C", "dl3-A", "dl3-B"]);
    expect(detectedMs).toBeLessThan(1_000);
    await hc.release();
    const hb3 = await bWaits;
    await hb.release();
    const ha2 = await aWaits;
    await Promise.all([ha.release(), hb3.release(), ha2.release()]);
  });

  it("does not report a deadlock for a plain wait chain", async () => {
    const a = env.manager({ owner: "chain-A", watchdog: false });
    const b = env.manager({ owner: "chain-B", watchdog: false });
    const ha = await a.acquire("chain-r1", { ttlMs: 400 });
    const hb = await b.acquire("chain-r1", { waitMs: 3_000 }); // waits for expiry, no cycle
    expect(hb.fence).toBeGreaterThan(ha.fence);
    await hb.release();
  });
});

describe("lock escalation", () => {
  it("escalates to the namespace lock at the threshold, with no gap in protection", async () => {
    const m = env.manager({ owner: "esc-owner", watchdog: false });
    const other = env.manager({ owner: "esc-other", watchdog: false });
    const esc = new LockEscalator(m, { namespace: "orders", threshold: 3, acquire: { ttlMs: 10_000 } });
    for (const k of ["k1", "k2", "k3"]) await esc.lock(k);
    expect(esc.escalated).toBe(false);
    expect(esc.heldKeys()).toEqual(["k1", "k2", "k3"]);
    expect(await m.holderToken(keyResource("orders", "k3"))).toMatch(/^esc-owner\|/);
    expect(await m.holderToken(namespaceResource("orders"))).toBeNull();

    // Another owner's escalator is kept out of the held keys but may lock a different key.
    const otherEsc = new LockEscalator(other, {
      namespace: "orders",
      threshold: 3,
      acquire: { ttlMs: 10_000, waitMs: 100 },
    });
    await expect(otherEsc.lock("k1")).rejects.toBeInstanceOf(LockTimeoutError);
    await otherEsc.lock("k9");
    // Escalation cannot happen while another owner holds a key of the namespace: stays on key locks.
    await esc.lock("k4");
    expect(esc.escalated).toBe(false);
    await otherEsc.releaseAll();

    const h = await esc.lock("k5"); // 5th key, others gone: escalates
    expect(esc.escalated).toBe(true);
    expect(h.resource).toBe(namespaceResource("orders"));
    expect(esc.heldKeys()).toEqual([]);
    expect(await m.holderToken(namespaceResource("orders"))).toBe(h.token);
    for (const k of ["k1", "k2", "k3", "k4"])
      expect(await m.holderToken(keyResource("orders", k))).toBeNull();
    // Protection is kept: other owners can take no key of the namespace.
    await expect(otherEsc.lock("k1")).rejects.toBeInstanceOf(LockTimeoutError);
    await expect(otherEsc.lock("k77")).rejects.toBeInstanceOf(LockTimeoutError);
    await esc.releaseAll();
    const after = await otherEsc.lock("k1");
    expect(after.resource).toBe(keyResource("orders", "k1"));
    await otherEsc.releaseAll();
  });
});

describe("typed errors", () => {
  it("an unreachable Redis gives BackendUnavailableError, bad arguments InvalidInputError", async () => {
    const dead = new Redis("redis://127.0.0.1:1", { maxRetriesPerRequest: 1, retryStrategy: () => 20 });
    dead.on("error", () => {});
    const m = new LockManager(dead, { prefix: env.prefix, watchdog: false });
    await expect(m.acquire("x", { waitMs: 0 })).rejects.toBeInstanceOf(BackendUnavailableError);
    dead.disconnect();
    const ok = env.manager({ watchdog: false });
    await expect(ok.acquire("")).rejects.toBeInstanceOf(InvalidInputError);
    await expect(ok.acquire("x", { ttlMs: 0 })).rejects.toBeInstanceOf(InvalidInputError);
  });
});
