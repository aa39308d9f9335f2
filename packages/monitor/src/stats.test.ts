import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { percentiles, quantileSorted, Reservoir, SlidingWindow } from "./stats.js";

describe("stats", () => {
  it("nearest-rank percentiles", () => {
    const p = percentiles(Array.from({ length: 100 }, (_, i) => i + 1));
    expect([p.p50, p.p95, p.p99, p.max, p.count]).toEqual([50, 95, 99, 100, 100]);
    expect(percentiles([]).count).toBe(0);
  });

  it("percentiles are ordered and lie within the samples", () => {
    fc.assert(
      fc.property(fc.array(fc.double({ min: 0, max: 1e6, noNaN: true }), { minLength: 1 }), (xs) => {
        const p = percentiles(xs);
        const sorted = [...xs].sort((a, b) => a - b);
        expect(p.p50).toBeLessThanOrEqual(p.p95);
        expect(p.p95).toBeLessThanOrEqual(p.p99);
        expect(p.p99).toBeLessThanOrEqual(p.max);
        expect(sorted).toContain(quantileSorted(sorted, 0.5));
      }),
    );
  });

  it("the sliding window forgets old samples; the reservoir counts all", () => {
    const w = new SlidingWindow(1000);
    w.add(5, 0);
    w.add(7, 900);
    expect(w.values(1500)).toEqual([7]);
    const r = new Reservoir(10);
    for (let i = 0; i < 1000; i++) r.add(i);
    expect(r.percentiles().count).toBe(1000);
  });

  it("a sliding window holds the newest maxSamples samples younger than the window, whatever the history", () => {
    const step = fc.record({ value: fc.integer(), dt: fc.nat(30), readAfter: fc.boolean() });
    fc.assert(
      fc.property(fc.array(step, { maxLength: 200 }), fc.integer({ min: 1, max: 12 }), (steps, max) => {
        const w = new SlidingWindow(100, max);
        const all: { at: number; value: number }[] = [];
        let now = 0;
        for (const { value, dt, readAfter } of steps) {
          now += dt;
          w.add(value, now);
          all.push({ at: now, value });
          if (!readAfter) continue;
          const model = all.slice(-max).filter((s) => s.at >= now - 100);
          expect(w.values(now)).toEqual(model.map((s) => s.value));
        }
      }),
    );
  });
});
