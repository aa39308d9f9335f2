// Lock caching (lease delegation) on the real Redis: exclusion and strictly increasing fencing tokens
// across nodes, revocation on demand, deadlocks (local and across nodes), and a node frozen with SIGSTOP
// past its lease whose late write the fenced store refuses.
import { DeadlockError, InvalidInputError, LockNotHeldError, LockTimeoutError } from "@meridian/core";
import { type CachedLock, LockCache, type LockCacheOptions } from "@meridian/locks";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { fencedWrite } from "./fixtures/fenced-register.js";
import { type LockFixture, lockTestEnv, sleep, waitUntil } from "./support/locks-env.js";

const env = lockTestEnv("lock-cache");
let caches: LockCache[] = [];

async function node(nodeId: string, opts: LockCacheOptions = {}): Promise<LockCache> {
  const c = await LockCache.start(env.manager(), { nodeId, ...opts });
  caches.push(c);
  return c;
}

afterEach(async () => {
  for (const c of caches) await c.close();
  caches = [];
});
afterAll(() => env.cleanup());

describe("LockCache (lease delegation over LockManager, real Redis)", () => {
  it("excludes across nodes and hands out strictly increasing fences in grant order", async () => {
    const a = await node("a", { fenceBlock: 4 }); // small blocks: several reservations along the way
    const b = await node("b", { fenceBlock: 4 });
    const fences: number[] = [];
    let inside = 0;
    let overlaps = 0;
    const task = async (c: LockCache, n: number) => {
      for (let i = 0; i < n; i++) {
        const g = await c.acquire("shared", { waitMs: 20_000 });
        if (++inside > 1) overlaps++;
        fences.push(g.fence);
        await sleep(i % 3 === 0 ? 1 : 0);
        inside--;
        await g.release();
      }
    };
    await Promise.all([task(a, 30), task(a, 30), task(b, 30), task(b, 30)]);
    expect(overlaps).toBe(0);
    expect(fences).toHaveLength(120);
    for (let i = 1; i < fences.length; i++) expect(fences[i]).toBeGreaterThan(fences[i - 1]!);
    expect(a.stats.localGrants + b.stats.localGrants).toBe(120);
    expect(a.stats.blocksReserved + b.stats.blocksReserved).toBeGreaterThan(0);
  }, 60_000);

  it("grants locally without a round trip while the lease is held, and gives it back when asked", async () => {
    const a = await node("a", { idleReleaseMs: 60_000 });
    const b = await node("b");
    for (let i = 0; i < 50; i++) await (await a.acquire("r")).release();
    expect(a.stats.leasesTaken).toBe(1);
    expect(a.stats.localGrants).toBe(50);
    const started = performance.now();
    const g = await b.acquire("r", { waitMs: 5_000 }); // a would keep the lease for a minute if not asked
    expect(performance.now() - started).toBeLessThan(3_000);
    expect(a.stats.revokesReceived).toBeGreaterThan(0);
    expect(a.stats.leasesGivenBack).toBe(1);
    await g.release();
  });

  it("times out a local waiter with LockTimeoutError and rejects bad input", async () => {
    const a = await node("a");
    const held = await a.acquire("t");
    await expect(a.acquire("t", { waitMs: 50 })).rejects.toBeInstanceOf(LockTimeoutError);
    await held.release();
    await expect(a.acquire("")).rejects.toBeInstanceOf(InvalidInputError);
    await expect(LockCache.start(env.manager(), { fenceBlock: 0 })).rejects.toBeInstanceOf(InvalidInputError);
  });

  it("detects a deadlock between two local tasks of one node", async () => {
    const a = await node("a");
    const x = await a.acquire("x", { owner: "t1" });
    const y = await a.acquire("y", { owner: "t2" });
    const t1 = a.acquire("y", { owner: "t1", waitMs: 5_000 });
    await expect(a.acquire("x", { owner: "t2", waitMs: 5_000 })).rejects.toBeInstanceOf(DeadlockError);
    await y.release(); // the victim gives up its lock; the other task proceeds
    const got = await t1;
    expect(got.resource).toBe("y");
    await got.release();
    await x.release();
  });

  it("detects a deadlock across cached locks of two nodes (Redis wait-for graph)", async () => {
    const a = await node("a", { idleReleaseMs: 60_000 });
    const b = await node("b", { idleReleaseMs: 60_000 });
    // One task per node holds one lock and asks for the other's: a cycle at task level.
    const x = await a.acquire("dx", { owner: "task-a" });
    const y = await b.acquire("dy", { owner: "task-b" });
    // The victim gives up the lock it holds (as a caller must on DeadlockError); the other then proceeds.
    const giveUpOnDeadlock = (p: Promise<CachedLock>, held: CachedLock) =>
      p.catch(async (err: unknown) => {
        await held.release();
        throw err;
      });
    const results = await Promise.allSettled([
      giveUpOnDeadlock(a.acquire("dy", { owner: "task-a", waitMs: 8_000 }), x),
      giveUpOnDeadlock(b.acquire("dx", { owner: "task-b", waitMs: 8_000 }), y),
    ]);
    const errors = results.flatMap((r) => (r.status === "rejected" ? [r.reason] : []));
    expect(errors).toHaveLength(1);
    expect(errors[0]).toBeInstanceOf(DeadlockError);
    for (const r of results) if (r.status === "fulfilled") await r.value.release();
    await x.release();
    await y.release();
  }, 30_000);

  it("reports no deadlock when tasks that hold nothing contend for hot locks across nodes", async () => {
    const a = await node("a");
    const b = await node("b");
    const task = async (c: LockCache, t: number) => {
      for (let i = 0; i < 15; i++) await (await c.acquire(`hot${(t + i) % 4}`, { waitMs: 20_000 })).release();
    };
    const results = await Promise.allSettled(
      Array.from({ length: 12 }, (_, t) => task(t % 2 === 0 ? a : b, t)),
    );
    expect(results.filter((r) => r.status === "rejected")).toEqual([]);
  }, 60_000);

  it("a grant whose lease is lost in Redis becomes lost: signal aborted, release throws", async () => {
    const a = await node("a", { leaseTtlMs: 600 });
    const g = await a.acquire("gone");
    await env.admin.del(`${env.prefix}l:gone`); // the lease vanishes (expiry, failover) behind the node's back
    const lost = await waitUntil(() => g.state === "lost", 5_000);
    expect(lost).toBe(true);
    expect(g.signal.aborted).toBe(true);
    expect(g.isHeld()).toBe(false);
    await expect(g.release()).rejects.toBeInstanceOf(LockNotHeldError);
    const again = await a.acquire("gone", { waitMs: 5_000 }); // a new lease, a larger fence
    expect(again.fence).toBeGreaterThan(g.fence);
    await again.release();
  });

  it("a node frozen past its lease loses it: the other node's larger fence wins, the late write is refused", async () => {
    const leaseTtl = 800;
    const child = env.spawnFixture("cache-node", "frozen", leaseTtl);
    try {
      const lines = lineReader(child);
      const frozenFence = Number((await lines.next(15_000)).split(" ")[1]);
      expect(frozenFence).toBeGreaterThan(0);
      child.kill("SIGSTOP");
      const b = await node("b");
      const g = await b.acquire("frozen", { waitMs: 10_000 }); // only after the frozen lease expires
      expect(g.fence).toBeGreaterThan(frozenFence);
      expect(await fencedWrite(env.admin, `${env.prefix}data`, g.fence, "from-b")).toBe(true);
      child.kill("SIGCONT");
      child.stdin.write("write\n");
      expect(await lines.next(10_000)).toMatch(/^write refused/);
      expect(await env.admin.hget(`${env.prefix}data`, "value")).toBe("from-b");
      await g.release();
    } finally {
      child.kill("SIGCONT");
      child.kill("SIGKILL");
    }
  }, 60_000);
});

function lineReader(child: LockFixture) {
  const queue: string[] = [];
  let wake: (() => void) | undefined;
  let buf = "";
  child.stdout.on("data", (d: Buffer) => {
    buf += d.toString();
    for (let i = buf.indexOf("\n"); i >= 0; i = buf.indexOf("\n")) {
      queue.push(buf.slice(0, i));
      buf = buf.slice(i + 1);
    }
    wake?.();
  });
  return {
    async next(timeoutMs: number): Promise<string> {
      const end = Date.now() + timeoutMs;
      while (queue.length === 0) {
        if (Date.now() > end) throw new Error("child said nothing in time");
        await new Promise<void>((r) => {
          wake = r;
          setTimeout(r, 50);
        });
      }
      return queue.shift()!;
    },
  };
}
