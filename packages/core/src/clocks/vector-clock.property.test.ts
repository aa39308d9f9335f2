import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { anyNodeVectorClockArb, vectorClockArb } from "../testing/arbitraries.js";
import { VectorClock } from "./vector-clock.js";

const RUNS = { numRuns: 1000 };
const leq = (a: VectorClock, b: VectorClock) => b.dominates(a);
const mirror = { before: "after", after: "before", equal: "equal", concurrent: "concurrent" } as const;

describe("VectorClock properties", () => {
  it("compare is reflexive", () => {
    fc.assert(
      fc.property(vectorClockArb, (a) => a.compare(a) === "equal" && a.dominates(a)),
      RUNS,
    );
  });

  it("compare is antisymmetric (a<=b and b<=a imply a = b) and mirrored", () => {
    fc.assert(
      fc.property(vectorClockArb, vectorClockArb, (a, b) => {
        expect(b.compare(a)).toBe(mirror[a.compare(b)]);
        if (leq(a, b) && leq(b, a)) expect(a.toJSON()).toEqual(b.toJSON());
      }),
      RUNS,
    );
  });

  it("compare is transitive (random triples and forced chains)", () => {
    fc.assert(
      fc.property(vectorClockArb, vectorClockArb, vectorClockArb, (a, x, y) => {
        const b = a.merge(x);
        const c = b.merge(y);
        expect(leq(a, b) && leq(b, c) && leq(a, c)).toBe(true);
        for (const [p, q, r] of [
          [a, x, y],
          [x, y, a],
        ] as const) {
          if (leq(p, q) && leq(q, r)) expect(leq(p, r)).toBe(true);
        }
        if (a.compare(b) === "before" && b.compare(c) === "before") expect(a.compare(c)).toBe("before");
      }),
      RUNS,
    );
  });

  it("merge is the least upper bound, and commutative, associative, idempotent", () => {
    fc.assert(
      fc.property(vectorClockArb, vectorClockArb, vectorClockArb, (a, b, c) => {
        const m = a.merge(b);
        expect(m.dominates(a) && m.dominates(b)).toBe(true);
        if (c.dominates(a) && c.dominates(b)) expect(c.dominates(m)).toBe(true);
        expect(m.equals(b.merge(a))).toBe(true);
        expect(
          a
            .merge(b)
            .merge(c)
            .equals(a.merge(b.merge(c))),
        ).toBe(true);
        expect(a.merge(a).equals(a)).toBe(true);
      }),
      RUNS,
    );
  });

  it("increment moves strictly after", () => {
    fc.assert(
      fc.property(vectorClockArb, fc.constantFrom("us-east", "x"), (a, node) => {
        const b = a.increment(node);
        expect(a.compare(b)).toBe("before");
        expect(b.get(node)).toBe(a.get(node) + 1);
      }),
      RUNS,
    );
  });

  it("encode/decode and toJSON/from round-trip, including odd node ids", () => {
    fc.assert(
      fc.property(anyNodeVectorClockArb, (a) => {
        const decoded = VectorClock.decode(a.encode());
        expect(decoded.compare(a)).toBe("equal");
        expect(decoded.encode()).toBe(a.encode());
        expect(VectorClock.from(a.toJSON()).equals(a)).toBe(true);
      }),
      RUNS,
    );
  });
});
