import { EventEmitter } from "node:events";
import type { AppliedEvent } from "@meridian/invalidation-consumer";
import { describe, expect, it } from "vitest";
import { PairConvergence } from "./pair-convergence.js";

const applied = (origin: string, region: string, lagMs: number, atMs: number): AppliedEvent => ({
  region,
  originRegion: origin,
  key: "k",
  outcome: "merged",
  lagMs,
  atMs,
});

describe("convergence per region pair under load", () => {
  it("keeps each (origin → region) apart, counts only writes made after start, and windows reset", () => {
    const feed = new EventEmitter<{ applied: [AppliedEvent] }>();
    const pairs = new PairConvergence(feed, ["a", "b", "c"]).start(1000);
    feed.emit("applied", applied("a", "b", 50, 1100));
    feed.emit("applied", applied("a", "b", 150, 1200));
    feed.emit("applied", applied("c", "a", 400, 1500));
    feed.emit("applied", applied("b", "b", 5, 1500)); // a region's own write: no pair
    feed.emit("applied", applied("a", "c", 300, 1200)); // written at 900, before the load
    const rows = pairs.rows();
    expect(rows).toHaveLength(6);
    const ab = rows.find((r) => r.origin === "a" && r.region === "b")!;
    expect(ab.count).toBe(2);
    expect(ab.p50Ms).toBeCloseTo(50, 0);
    expect(ab.maxMs).toBeCloseTo(150, 0);
    expect(rows.find((r) => r.origin === "a" && r.region === "c")!.count).toBe(0);
    expect(pairs.overall().count).toBe(3);
    expect(pairs.takeWindow().reduce((s, r) => s + r.count, 0)).toBe(3);
    expect(pairs.takeWindow().reduce((s, r) => s + r.count, 0)).toBe(0);
    pairs.stop();
    feed.emit("applied", applied("a", "b", 10, 2000));
    expect(pairs.overall().count).toBe(3);
  });
});
