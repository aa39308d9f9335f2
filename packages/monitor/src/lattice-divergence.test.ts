import { describe, expect, it } from "vitest";
import { LatticeDivergenceTracker } from "./lattice-divergence.js";
import type { StateLattice } from "./probes.js";
import { ViolationLog } from "./violations.js";

// A max-register: the state is a number, the join is the maximum.
const maxLattice: StateLattice = {
  join: (ds) => String(Math.max(...ds.map(Number))),
  leq: (a, b) => Number(a) <= Number(b),
};
const R = ["a", "b", "c"];
const snap = (a: number, b: number, c: number | undefined) =>
  new Map([
    ["a", new Map([["k", String(a)]])],
    ["b", new Map([["k", String(b)]])],
    ["c", new Map(c === undefined ? [] : [["k", String(c)]])],
  ]);

describe("LatticeDivergenceTracker", () => {
  it("a region that keeps up with a continuously written key has a small lag, the writer none", () => {
    const log = new ViolationLog();
    const t = new LatticeDivergenceTracker(R, maxLattice, log, undefined, 1000);
    const caught: Array<[string, number]> = [];
    t.onRegionCaughtUp((r, ms) => caught.push([r, ms]));
    // a writes a new value every 100 ms; b receives it 100 ms later, c 200 ms later. Never all equal.
    for (let i = 2; i <= 60; i++) {
      const r = t.tick(snap(i, i - 1, i - 2), i * 100);
      expect(r.divergentKeys).toBe(1);
    }
    expect(t.regionLagMs("a", 6000)).toBe(0);
    // Lag counts from the tick that first saw the missing data: b misses what appeared this tick.
    expect(t.regionLagMs("b", 6000)).toBe(0);
    expect(t.regionLagMs("c", 6000)).toBe(100);
    expect(t.regionLagMs("c", 6050)).toBe(150);
    expect(log.count).toBe(0);
    expect(new Set(caught.filter(([r]) => r === "b").map(([, ms]) => ms))).toEqual(new Set([100]));
    expect(new Set(caught.filter(([r]) => r === "c").map(([, ms]) => ms))).toEqual(new Set([200]));
    expect(caught.some(([r]) => r === "a")).toBe(false);
    expect(t.convergenceStats().perRegion.c!.p99).toBe(200);
  });

  it("a stalled region's lag grows past the window: one violation, naming it", () => {
    const log = new ViolationLog();
    const t = new LatticeDivergenceTracker(R, maxLattice, log, undefined, 1000);
    for (let i = 1; i <= 30; i++) t.tick(snap(i, i, 1), i * 100);
    expect(t.regionLagMs("c", 3000)).toBe(2800);
    expect(log.list().map((v) => v.region)).toEqual(["c"]);
    // Partly catching up (still more than the window behind) is the same episode: no second violation.
    t.tick(snap(30, 30, 5), 3050);
    expect(log.count).toBe(1);
    // c catches up: lag 0, one catch-up observation: the data it missed first appeared at 200 ms.
    t.tick(snap(31, 31, 31), 3100);
    expect(t.regionLagMs("c", 3100)).toBe(0);
    // Two catch-up observations: data first seen at 200 ms reached c at 3050, the rest at 3100.
    expect(t.convergenceStats().perRegion.c).toMatchObject({ count: 2, max: 2850 });
  });

  it("a key missing in a region counts as behind", () => {
    const t = new LatticeDivergenceTracker(R, maxLattice, new ViolationLog());
    expect(t.tick(snap(1, 1, undefined), 0).divergentKeys).toBe(1);
    expect(t.openEpisodes(50)).toEqual([{ key: "k", ageMs: 50, behind: ["c"] }]);
  });
});
