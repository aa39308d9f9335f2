import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { RandomWalk, symbolNames } from "./market-data.js";

describe("RandomWalk", () => {
  it("round-robins symbols with per-symbol sequence numbers", () => {
    const w = new RandomWalk({ symbols: 3, now: () => 42 });
    const ticks = Array.from({ length: 7 }, () => w.next());
    expect(ticks.map((t) => t.symbol)).toEqual([
      "SYM000",
      "SYM001",
      "SYM002",
      "SYM000",
      "SYM001",
      "SYM002",
      "SYM000",
    ]);
    expect(ticks.filter((t) => t.symbol === "SYM000").map((t) => t.sequence)).toEqual([1, 2, 3]);
    expect(ticks.every((t) => t.timestampMs === 42)).toBe(true);
    expect(symbolNames(2)).toEqual(["SYM000", "SYM001"]);
  });

  it("keeps bid < price < ask, positive prices and volumes, whatever the random source (property)", () => {
    fc.assert(
      fc.property(
        fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { minLength: 2, maxLength: 200 }),
        (rs) => {
          let i = 0;
          const w = new RandomWalk({ symbols: 2, random: () => rs[i++ % rs.length]!, volatility: 0.05 });
          for (let n = 0; n < 100; n++) {
            const t = w.next();
            expect(t.price).toBeGreaterThan(0);
            expect(t.bid).toBeLessThanOrEqual(t.price);
            expect(t.ask).toBeGreaterThanOrEqual(t.price);
            expect(t.volume).toBeGreaterThanOrEqual(1);
            expect(Number.isFinite(t.price)).toBe(true);
          }
        },
      ),
    );
  });

  it("rejects a non-positive symbol count", () => {
    expect(() => new RandomWalk({ symbols: 0 })).toThrow(RangeError);
  });
});
