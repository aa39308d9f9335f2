import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { ClockDriftError } from "../errors.js";
import { hlcArb } from "../testing/arbitraries.js";
import { compareHlc, decodeHlc, encodeHlc, type HlcTimestamp, HybridLogicalClock } from "./hlc.js";

const RUNS = { numRuns: 1000 };
const MAX_DRIFT = 1_000;

/** One step: the physical clock jumps by `jump` (often backwards), then a local event or a receive. */
type Step = { jump: number; kind: "now" } | { jump: number; kind: "update"; offset: number; logical: number };

const stepArb: fc.Arbitrary<Step> = fc.oneof(
  fc.record({ jump: fc.integer({ min: -5_000, max: 5_000 }), kind: fc.constant("now" as const) }),
  fc.record({
    jump: fc.integer({ min: -5_000, max: 5_000 }),
    kind: fc.constant("update" as const),
    // Remote wall time relative to local physical time; past MAX_DRIFT must be refused.
    offset: fc.integer({ min: -3_000, max: MAX_DRIFT + 500 }),
    logical: fc.nat({ max: 5 }),
  }),
);

/** Strictly later in HLC time, ignoring the node tie-break (which cannot order events of one clock). */
const strictlyAfter = (a: HlcTimestamp, b: HlcTimestamp) =>
  a.wallMs > b.wallMs || (a.wallMs === b.wallMs && a.logical > b.logical);

describe("HybridLogicalClock properties", () => {
  it("never goes backwards under a physical clock that jumps back; update() passes local and remote", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 10_000, max: 1_000_000 }),
        fc.array(stepArb, { maxLength: 40 }),
        (start, steps) => {
          let pt = start;
          const clock = new HybridLogicalClock("local", { physicalNow: () => pt, maxDriftMs: MAX_DRIFT });
          let prev = clock.peek();
          for (const step of steps) {
            pt = Math.max(0, pt + step.jump);
            if (step.kind === "now") {
              const t = clock.now();
              expect(strictlyAfter(t, prev)).toBe(true);
              expect(t.wallMs).toBeGreaterThanOrEqual(pt);
              prev = t;
              continue;
            }
            const remote = { wallMs: Math.max(0, pt + step.offset), logical: step.logical, node: "remote" };
            if (remote.wallMs - pt > MAX_DRIFT) {
              expect(() => clock.update(remote)).toThrow(ClockDriftError);
              expect(clock.peek()).toEqual(prev);
              continue;
            }
            const t = clock.update(remote);
            expect(strictlyAfter(t, prev)).toBe(true);
            expect(strictlyAfter(t, remote)).toBe(true);
            expect(compareHlc(t, remote)).toBe(1);
            expect(t.wallMs).toBeGreaterThanOrEqual(pt);
            prev = t;
          }
        },
      ),
      RUNS,
    );
  });

  it("keeps logical counters bounded when physical time advances (wall resets logical)", () => {
    fc.assert(
      fc.property(fc.array(fc.nat({ max: 3 }), { minLength: 1, maxLength: 30 }), (jumps) => {
        let pt = 1_000;
        const clock = new HybridLogicalClock("n", { physicalNow: () => pt });
        for (const j of jumps) {
          pt += j;
          const t = clock.now();
          if (j > 0) expect(t).toEqual({ wallMs: pt, logical: 0, node: "n" });
        }
      }),
      RUNS,
    );
  });

  it("compareHlc is a total order consistent with the encoded string order", () => {
    fc.assert(
      fc.property(hlcArb, hlcArb, hlcArb, (a, b, c) => {
        expect(compareHlc(a, b)).toBe(-compareHlc(b, a) || 0);
        if (compareHlc(a, b) === 0) expect(a).toEqual(b);
        if (compareHlc(a, b) <= 0 && compareHlc(b, c) <= 0) expect(compareHlc(a, c)).toBeLessThanOrEqual(0);
        const ea = encodeHlc(a);
        const eb = encodeHlc(b);
        expect(Math.sign(ea < eb ? -1 : ea > eb ? 1 : 0)).toBe(compareHlc(a, b));
        expect(decodeHlc(ea)).toEqual(a);
      }),
      RUNS,
    );
  });
});
