// Regression tests for failures seen in other lock libraries.

import { LockNotHeldError } from "@meridian/core";
import { afterAll, describe, expect, it } from "vitest";
import { lockTestEnv, sleep, waitUntil } from "./support/locks-env.js";

const env = lockTestEnv("lockreg");
afterAll(() => env.cleanup());

describe("lock regressions", () => {
  it("a lock cannot be renewed after unlock (handle, raw token, or a watchdog tick)", async () => {
    const m = env.manager({ owner: "renew-after-unlock" });
    const h = await m.acquire("r-unlock", { ttlMs: 300, renewIntervalMs: 20 });
    await h.release();
    await expect(h.renew()).rejects.toBeInstanceOf(LockNotHeldError);
    await expect(m.renew("r-unlock", h.token, 10_000)).rejects.toBeInstanceOf(LockNotHeldError);
    await sleep(100); // several watchdog periods
    expect(await m.holderToken("r-unlock")).toBeNull();
    expect(h.watchdogStats?.running).toBe(false);
  });

  it("a mutex is not silently re-acquired after expiry", async () => {
    const m = env.manager({ owner: "expired-holder", watchdog: false });
    const h = await m.acquire("r-expired", { ttlMs: 100 });
    await sleep(250);
    expect(h.isHeld()).toBe(false);
    await expect(h.renew()).rejects.toBeInstanceOf(LockNotHeldError);
    expect(await m.holderToken("r-expired")).toBeNull(); // renew did not re-create the key
    expect(h.state).toBe("lost");
    expect(h.signal.aborted).toBe(true);

    // Same when someone else took it meanwhile: the late holder cannot take it back.
    const h1 = await m.acquire("r-expired2", { ttlMs: 100 });
    await sleep(200);
    const other = env.manager({ owner: "new-holder", watchdog: false });
    const h2 = await other.acquire("r-expired2", { ttlMs: 5_000, waitMs: 0 });
    await expect(h1.renew()).rejects.toBeInstanceOf(LockNotHeldError);
    await expect(h1.release()).rejects.toBeInstanceOf(LockNotHeldError);
    expect(await m.holderToken("r-expired2")).toBe(h2.token);
    await h2.release();
  });

  it("a release racing with a refresh never leaves the lock behind (200 rounds)", async () => {
    const m = env.manager({ owner: "race", watchdog: false });
    let leftovers = 0;
    for (let i = 0; i < 200; i++) {
      const h = await m.acquire("r-race", { ttlMs: 30_000 });
      // Raw token path, so the local "released" state cannot short-circuit the renewal.
      const renew = m.renew("r-race", h.token, 30_000).catch((e: unknown) => e);
      const release = h.release();
      const renewRaw = m.renew("r-race", h.token, 30_000).catch((e: unknown) => e);
      await Promise.all([renew, release, renewRaw]);
      expect(await renewRaw).toBeInstanceOf(LockNotHeldError);
      if ((await m.holderToken("r-race")) !== null) leftovers++;
    }
    expect(leftovers).toBe(0);
  });

  it("the watchdog survives a dropped connection and keeps renewing after reconnect", async () => {
    const m = env.manager({ owner: "reconnect" });
    const h = await m.acquire("r-reconnect", { ttlMs: 2_400 }); // renews every 800 ms
    const id = await m.redis.client("ID");
    await env.admin.client("KILL", "ID", String(id));
    await sleep(300);
    const renewalsAfterKill = h.watchdogStats!.renewals;
    await sleep(4_000); // several ttl/3 periods after the reconnect
    expect(await m.holderToken("r-reconnect")).toBe(h.token);
    expect(h.watchdogStats!.renewals).toBeGreaterThanOrEqual(renewalsAfterKill + 3);
    expect(h.isHeld()).toBe(true);
    // The client really reconnected (new connection id).
    expect(await m.redis.client("ID")).not.toBe(id);
    await h.release();
  });

  it("an event-loop stall longer than the ttl marks the lock lost instead of pretending to hold it", async () => {
    const m = env.manager({ owner: "stall" });
    const h = await m.acquire("r-stall", { ttlMs: 200 });
    const lost = new Promise<Error>((resolve) => h.onLost(resolve));
    const until = Date.now() + 400;
    while (Date.now() < until) {} // block the event loop
    expect(h.isHeld()).toBe(false);
    const err = await lost;
    expect(err).toBeInstanceOf(LockNotHeldError);
    expect(h.state).toBe("lost");
    expect(await waitUntil(async () => (await m.holderToken("r-stall")) === null, 1_000)).toBe(true);
  });

  it("concurrent callers sharing one manager (no fixed owner) queue up instead of a false self-deadlock", async () => {
    const m = env.manager({ watchdog: false });
    let inside = 0;
    let maxInside = 0;
    await Promise.all(
      Array.from({ length: 8 }, async () => {
        for (let i = 0; i < 5; i++) {
          const h = await m.acquire("r-shared", { ttlMs: 5_000, waitMs: 20_000 });
          maxInside = Math.max(maxInside, ++inside);
          await sleep(2);
          inside--;
          await h.release();
        }
      }),
    );
    expect(maxInside).toBe(1);
  });
});
