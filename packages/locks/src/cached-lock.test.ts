import { LockNotHeldError } from "@meridian/core";
import { describe, expect, it } from "vitest";
import { CachedLock } from "./cached-lock.js";

function grant(validForMs = 60_000) {
  const released: CachedLock[] = [];
  const until = performance.now() + validForMs;
  const lock = new CachedLock({ releaseLocal: (l) => released.push(l) }, "r", 7, "t", {
    validUntil: () => until,
  });
  return { lock, released };
}

describe("CachedLock", () => {
  it("is held while the lease is valid and releases once", async () => {
    const { lock, released } = grant();
    expect(lock.isHeld()).toBe(true);
    await lock.release();
    await lock.release();
    expect(released).toHaveLength(1);
    expect(lock.state).toBe("released");
    expect(lock.isHeld()).toBe(false);
  });

  it("is not held once the lease's validity has passed", () => {
    expect(grant(-1).lock.isHeld()).toBe(false);
  });

  it("a lost grant aborts its signal (read before or after) and its release throws LockNotHeldError", async () => {
    const before = grant();
    const early = before.lock.signal;
    before.lock.markLost(new Error("lease lost"));
    expect(early.aborted).toBe(true);
    const after = grant();
    after.lock.markLost(new Error("lease lost"));
    expect(after.lock.signal.aborted).toBe(true);
    expect(after.lock.isHeld()).toBe(false);
    await expect(after.lock.release()).rejects.toBeInstanceOf(LockNotHeldError);
    expect(after.released).toHaveLength(1); // the node still frees its local slot
  });
});
