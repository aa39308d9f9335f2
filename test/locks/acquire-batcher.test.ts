// Batched acquisition on the real Redis: concurrent attempts share script calls, and the lock's guarantees
// (exclusion, strictly increasing fences, deadlock detection, typed errors) are those of LockManager.
import { DeadlockError, LockTimeoutError } from "@meridian/core";
import { AcquireBatcher } from "@meridian/locks";
import { afterAll, describe, expect, it } from "vitest";
import { lockTestEnv, sleep } from "./support/locks-env.js";

const env = lockTestEnv("batcher");
afterAll(() => env.cleanup());

describe("AcquireBatcher (concurrent attempts pooled into one script call)", () => {
  it("takes many uncontended locks in few script calls", async () => {
    const b = new AcquireBatcher(env.manager({ watchdog: false }));
    await (await b.acquire("warm")).release(); // installs the fencing epoch (an extra attempt)
    const { calls, attempts } = b.stats;
    const handles = await Promise.all(
      Array.from({ length: 200 }, (_, i) => b.acquire(`u${i}`, { waitMs: 0 })),
    );
    expect(new Set(handles.map((h) => h.resource)).size).toBe(200);
    expect(handles.every((h) => h.fence > 0)).toBe(true);
    expect(b.stats.attempts - attempts).toBe(200);
    expect(b.stats.calls - calls).toBeLessThan(20);
    await Promise.all(handles.map((h) => h.release()));
    expect(await b.manager.holderToken("u0")).toBeNull();
  });

  it("excludes on one hot lock and hands out strictly increasing fences in grant order", async () => {
    const b = new AcquireBatcher(env.manager({ watchdog: false }));
    const fences: number[] = [];
    let inside = 0;
    let overlaps = 0;
    await Promise.all(
      Array.from({ length: 8 }, async () => {
        for (let i = 0; i < 6; i++) {
          const h = await b.acquire("hot", { waitMs: 20_000 });
          if (++inside > 1) overlaps++;
          fences.push(h.fence);
          await sleep(1);
          inside--;
          await h.release();
        }
      }),
    );
    expect(overlaps).toBe(0);
    for (let i = 1; i < fences.length; i++) expect(fences[i]).toBeGreaterThan(fences[i - 1]!);
  }, 60_000);

  it("keeps deadlock detection and timeouts of the acquire loop", async () => {
    const b = new AcquireBatcher(env.manager({ watchdog: false }));
    const x = await b.acquire("bx", { owner: "t1" });
    const y = await b.acquire("by", { owner: "t2" });
    const t1 = b.acquire("by", { owner: "t1", waitMs: 5_000 }).catch(async (err) => {
      await x.release();
      throw err;
    });
    const t2 = b.acquire("bx", { owner: "t2", waitMs: 5_000 }).catch(async (err) => {
      await y.release();
      throw err;
    });
    const results = await Promise.allSettled([t1, t2]);
    const errors = results.flatMap((r) => (r.status === "rejected" ? [r.reason] : []));
    expect(errors).toHaveLength(1);
    expect(errors[0]).toBeInstanceOf(DeadlockError);
    for (const r of results) if (r.status === "fulfilled") await r.value.release();
    await x.release().catch(() => {});
    await y.release().catch(() => {});
    const held = await b.acquire("bt");
    await expect(b.acquire("bt", { waitMs: 30 })).rejects.toBeInstanceOf(LockTimeoutError);
    await held.release();
  }, 30_000);
});
