import { describe, expect, it } from "vitest";
import { ConvergenceTracker, quantile, summarize } from "./convergence.js";

describe("convergence figures", () => {
  it("nearest-rank quantiles", () => {
    const xs = Array.from({ length: 100 }, (_, i) => i + 1);
    expect(quantile(xs, 0.5)).toBe(50);
    expect(quantile(xs, 0.99)).toBe(99);
    expect(quantile([], 0.5)).toBe(0);
    expect(summarize([30, 10, 20])).toEqual({ count: 3, p50Ms: 20, p99Ms: 30, maxMs: 30 });
  });

  it("tracks per region in a bounded window and re-emits events", () => {
    const t = new ConvergenceTracker(2);
    const seen: string[] = [];
    t.on("applied", (e) => seen.push(e.region));
    for (const lagMs of [500, 10, 20]) {
      t.record({ region: "eu-west", key: "k", originRegion: "us-east", outcome: "applied", lagMs, atMs: 0 });
    }
    t.record({ region: "us-west", key: "k", originRegion: "us-east", outcome: "merged", lagMs: 7, atMs: 0 });
    expect(t.stats()["eu-west"]).toEqual({ count: 2, p50Ms: 10, p99Ms: 20, maxMs: 20 });
    expect(t.stats()["us-west"]!.maxMs).toBe(7);
    expect(seen).toEqual(["eu-west", "eu-west", "eu-west", "us-west"]);
    // Long runs: the summary stays the newest windowSize samples.
    let previous = 20;
    for (let lagMs = 1; lagMs <= 9; lagMs++) {
      t.record({ region: "eu-west", key: "k", originRegion: "us-east", outcome: "applied", lagMs, atMs: 0 });
      const [low, high] = [Math.min(previous, lagMs), Math.max(previous, lagMs)];
      expect(t.stats()["eu-west"]).toEqual({ count: 2, p50Ms: low, p99Ms: high, maxMs: high });
      previous = lagMs;
    }
  });
});
