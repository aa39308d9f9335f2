import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { clockAgrees } from "./node-lease.js";

describe("clockAgrees (drift bound between this node and Redis)", () => {
  it("property: clocks at the same rate agree whatever the round-trip times", () => {
    fc.assert(
      fc.property(fc.nat(10_000), fc.nat(50), fc.nat(50), fc.nat(50), fc.nat(50), (gap, d1, r1, d2, r2) => {
        const a = { sentAt: 0, redisMs: 1e9 + d1, receivedAt: d1 + r1 };
        const sent2 = a.receivedAt + gap;
        const b = { sentAt: sent2, redisMs: 1e9 + sent2 + d2, receivedAt: sent2 + d2 + r2 };
        expect(clockAgrees(a, b, 0.01)).toBe(true);
      }),
    );
  });

  it("a Redis clock that jumped or runs 5 % slow/fast is not trusted", () => {
    const a = { sentAt: 0, redisMs: 1e9, receivedAt: 1 };
    expect(clockAgrees(a, { sentAt: 1000, redisMs: 1e9 + 1000 + 500, receivedAt: 1001 }, 0.01)).toBe(false);
    expect(clockAgrees(a, { sentAt: 1000, redisMs: 1e9 + 950, receivedAt: 1001 }, 0.01)).toBe(false);
    expect(clockAgrees(a, { sentAt: 1000, redisMs: 1e9 + 1050, receivedAt: 1001 }, 0.01)).toBe(false);
    expect(clockAgrees(a, { sentAt: 1000, redisMs: 1e9 + 1000, receivedAt: 1001 }, 0.01)).toBe(true);
  });
});
