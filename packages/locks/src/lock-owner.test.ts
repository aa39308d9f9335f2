import { InvalidInputError } from "@meridian/core";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { currentLockOwner, withLockOwner } from "./lock-owner.js";

describe("withLockOwner", () => {
  it("is the owner of everything the task awaits, and only of that task", async () => {
    const seen = await Promise.all(
      ["t1", "t2", "t3"].map((owner) =>
        withLockOwner(owner, async () => {
          await new Promise((r) => setTimeout(r, Math.random() * 5));
          const inner = await Promise.resolve().then(() => currentLockOwner());
          return [owner, inner];
        }),
      ),
    );
    for (const [owner, inner] of seen) expect(inner).toBe(owner);
    expect(currentLockOwner()).toBeUndefined();
  });

  it("refuses an empty owner or one containing the token separator", () => {
    fc.assert(
      fc.property(fc.string(), fc.string(), (a, b) => {
        const bad = `${a}|${b}`;
        expect(() => withLockOwner(bad, () => 0)).toThrow(InvalidInputError);
      }),
    );
    expect(() => withLockOwner("", () => 0)).toThrow(InvalidInputError);
  });
});
