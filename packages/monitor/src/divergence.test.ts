import { describe, expect, it } from "vitest";
import { DivergenceTracker } from "./divergence.js";
import { ViolationLog } from "./violations.js";

const R = ["a", "b", "c"];
const snap = (m: Record<string, Record<string, string>>) =>
  new Map(Object.entries(m).map(([r, kv]) => [r, new Map(Object.entries(kv))]));

describe("DivergenceTracker", () => {
  it("times a divergence from first sight until the digests agree, per pair and per region", () => {
    const log = new ViolationLog();
    const t = new DivergenceTracker(R, log, undefined, 5000);
    expect(t.tick(snap({ a: { k: "1" }, b: { k: "1" }, c: { k: "1" } }), 0).divergentKeys).toBe(0);
    const r1 = t.tick(snap({ a: { k: "2" }, b: { k: "1" }, c: { k: "1" } }), 100);
    expect(r1.divergentKeys).toBe(1);
    // b caught up at 300 (from then on the majority holds "2" and c is the one out of agreement), c at 700
    t.tick(snap({ a: { k: "2" }, b: { k: "2" }, c: { k: "1" } }), 300);
    expect(t.regionLagMs("c", 500)).toBe(200);
    expect(t.regionLagMs("a", 500)).toBe(0);
    const done = t.tick(snap({ a: { k: "2" }, b: { k: "2" }, c: { k: "2" } }), 700);
    expect(done.divergentKeys).toBe(0);
    const pairs = Object.fromEntries([...done.closed].map((o) => [`${o.regionA}|${o.regionB}`, o.ms]));
    expect(pairs).toEqual({ "a|c": 600, "b|c": 400 });
    const stats = t.convergenceStats();
    expect(stats.perPair["a|b"]!.max).toBe(200);
    expect(stats.overall.max).toBe(600);
    expect(t.regionLagMs("c", 800)).toBe(0);
    expect(log.count).toBe(0);
  });

  it("a key divergent past the window is one violation per episode, naming the region behind", () => {
    const log = new ViolationLog();
    const t = new DivergenceTracker(R, log, undefined, 1000);
    const split = snap({ a: { k: "2" }, b: { k: "2" }, c: { k: "1" } });
    t.tick(split, 0);
    t.tick(split, 900);
    expect(log.count).toBe(0);
    const r = t.tick(split, 1100);
    expect(r.violations).toHaveLength(1);
    expect(r.violations[0]!.region).toBe("c");
    t.tick(split, 5000);
    expect(log.count).toBe(1);
    expect(t.regionLagMs("c", 5000)).toBe(5000);
    expect(t.regionLagMs("a", 5000)).toBe(0);
  });

  it("a key missing from one region counts as divergence", () => {
    const t = new DivergenceTracker(R, new ViolationLog());
    const r = t.tick(snap({ a: { k: "1" }, b: { k: "1" }, c: {} }), 0);
    expect(r.divergentKeys).toBe(1);
    expect(t.openEpisodes(10)).toEqual([{ key: "k", ageMs: 10, behind: ["c"] }]);
  });
});
