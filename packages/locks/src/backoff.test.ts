import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { backoffDelay } from "./backoff.js";
import { ownerOfToken } from "./keys.js";

describe("backoffDelay", () => {
  it("stays within [min, max] and never sleeps past the holder's remaining ttl", () => {
    fc.assert(
      fc.property(
        fc.nat(40),
        fc.integer({ min: 1, max: 20 }),
        fc.integer({ min: 0, max: 500 }),
        fc.option(fc.integer({ min: 1, max: 1_000 }), { nil: undefined }),
        (attempt, min, extra, pttl) => {
          const d = backoffDelay(attempt, { minDelayMs: min, maxDelayMs: min + extra }, pttl);
          expect(d).toBeGreaterThanOrEqual(pttl !== undefined ? Math.min(min, pttl) : min);
          expect(d).toBeLessThanOrEqual(min + extra);
          if (pttl !== undefined) expect(d).toBeLessThanOrEqual(Math.max(1, pttl));
        },
      ),
    );
  });
});

describe("ownerOfToken", () => {
  it("recovers owners that themselves contain the separator", () => {
    fc.assert(
      fc.property(fc.string(), fc.uuid(), (owner, rnd) => {
        expect(ownerOfToken(`${owner}|${rnd}`)).toBe(owner);
      }),
    );
  });
});
