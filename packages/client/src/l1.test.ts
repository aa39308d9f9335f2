import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { deepFreeze, L1Store } from "./l1.js";

const entry = (value: number, bytes = 10) => ({
  value,
  version: 1,
  filledAt: 0,
  ageAtFill: 0,
  expiresAt: Number.POSITIVE_INFINITY,
  bytes,
  writtenBy: undefined,
});

describe("L1Store", () => {
  it("an invalidation during a fill voids it; a fill after it installs", () => {
    const l1 = new L1Store<number>({ maxEntries: 10, maxBytes: 1000 });
    const f = l1.beginFill("k");
    l1.invalidate("k");
    expect(l1.install("k", f, entry(1))).toBe(false);
    expect(l1.peekTrusted("k", 0)).toBeUndefined();
    const g = l1.beginFill("k");
    expect(l1.install("k", g, entry(2))).toBe(true);
    expect(l1.peekTrusted("k", 0)?.value).toBe(2);
  });

  it("distrustAll hides every copy from trusted reads but keeps it for stale reads", () => {
    const l1 = new L1Store<number>({ maxEntries: 10, maxBytes: 1000 });
    l1.install("k", l1.beginFill("k"), entry(1));
    const inFlight = l1.beginFill("j");
    l1.distrustAll();
    expect(l1.peekTrusted("k", 0)).toBeUndefined();
    expect(l1.peekAny("k")?.value).toBe(1);
    expect(l1.install("j", inFlight, entry(2))).toBe(false);
  });

  it("expired copies are not served", () => {
    const l1 = new L1Store<number>({ maxEntries: 10, maxBytes: 1000 });
    l1.install("k", l1.beginFill("k"), { ...entry(1), expiresAt: 100 });
    expect(l1.peekTrusted("k", 99)?.value).toBe(1);
    expect(l1.peekTrusted("k", 100)).toBeUndefined();
  });

  it("property: never more entries or bytes than the bounds, evictions counted", () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.integer({ min: 0, max: 50 }), fc.integer({ min: 1, max: 300 })), {
          maxLength: 200,
        }),
        (ops) => {
          const l1 = new L1Store<number>({ maxEntries: 20, maxBytes: 1000 });
          for (const [k, bytes] of ops) {
            l1.install(String(k), l1.beginFill(String(k)), entry(k, bytes));
            expect(l1.size).toBeLessThanOrEqual(20);
            expect(l1.bytes).toBeLessThanOrEqual(1000);
          }
          if (ops.length > 0 && l1.size < new Set(ops.map(([k]) => k)).size) {
            expect(l1.counters.evictions).toBeGreaterThan(0);
          }
        },
      ),
    );
  });

  it("a value larger than the byte bound is never installed", () => {
    const l1 = new L1Store<number>({ maxEntries: 10, maxBytes: 100 });
    expect(l1.install("k", l1.beginFill("k"), entry(1, 101))).toBe(false);
    expect(l1.size).toBe(0);
  });

  it("deepFreeze freezes nested objects", () => {
    const v = deepFreeze({ a: { b: [1, 2] } });
    expect(Object.isFrozen(v.a.b)).toBe(true);
  });
});
