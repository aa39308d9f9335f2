// The scheduler's promises: with a target that keeps up, it sends round(rate × duration) operations and
// each second's count stays near the rate; with a target that stalls, later operations are charged the
// stall (latency from the intended send time), not hidden by a sender that waited.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { runOpenLoop } from "./open-loop.js";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("open-loop rate control", () => {
  it("achieves round(rate × duration) operations, spread evenly, when the target keeps up", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 20, max: 3000 }),
        fc.integer({ min: 1000, max: 1600 }),
        fc.integer({ min: 0, max: 5 }),
        async (rate, durationMs, delayMs) => {
          const started: number[] = [];
          const t0 = performance.now();
          const r = await runOpenLoop({
            ratePerSecond: rate,
            durationMs,
            execute: async () => {
              started.push(performance.now() - t0);
              await sleep(delayMs);
            },
          });
          const expected = Math.round((rate * durationMs) / 1000);
          expect(r.offered).toBe(expected);
          expect(r.achieved).toBe(expected);
          expect(r.errors + r.unsent).toBe(0);
          // No burst ahead of schedule: by time t at most rate × t + 1 were sent.
          started.forEach((t, i) => {
            expect(i).toBeLessThanOrEqual((rate * t) / 1000 + 1);
          });
          // The first second offered no more than the rate (a late timer may push sends into the next
          // second on a busy machine, never pull them forward).
          expect(r.seconds[0]?.offered ?? 0).toBeLessThanOrEqual(rate + 1);
          // It ends near the duration (generous: CI runs many test files at once on two cores).
          expect(r.elapsedMs).toBeLessThan(durationMs + 5000);
        },
      ),
      { numRuns: 5 },
    );
  }, 60_000);

  it("charges a stall to every operation that was due during it (no coordinated omission)", async () => {
    const rate = 200;
    const stallMs = 400;
    let stalled = false;
    const r = await runOpenLoop({
      ratePerSecond: rate,
      durationMs: 1200,
      maxInFlight: 1, // a sender that waits for each answer: the case coordinated omission flatters
      execute: async (i) => {
        if (i === 20 && !stalled) {
          stalled = true;
          await sleep(stallMs);
        }
      },
    });
    expect(r.achieved).toBe(240);
    // ~80 operations were due during the stall; each is charged from its own due time, so the p99 and
    // the max reflect the stall, not one slow call among many fast ones.
    expect(r.latency.maxMs).toBeGreaterThanOrEqual(stallMs * 0.9);
    expect(r.latency.p99Ms).toBeGreaterThanOrEqual(stallMs * 0.5);
  });

  it("sheds what waited past its deadline: past the target's capacity the wait stays bounded", async () => {
    // Capacity: 4 in flight × 20 ms each ≈ 200/s, offered 1000/s for 1 s.
    const shedAfterMs = 100;
    const started: number[] = [];
    const r = await runOpenLoop({
      ratePerSecond: 1000,
      durationMs: 1000,
      maxInFlight: 4,
      shedAfterMs,
      execute: async (i) => {
        started.push(i);
        await sleep(20);
      },
    });
    expect(r.offered).toBe(1000);
    expect(r.shed).toBeGreaterThan(500);
    expect(r.sent).toBe(started.length);
    expect(r.sent + r.shed + r.unsent).toBe(r.offered);
    expect(r.achieved).toBe(r.sent);
    // Every operation sent left within the deadline (plus a timer's slack), so none waited longer.
    expect(r.latency.maxMs).toBeLessThan(shedAfterMs + 20 + 150);
    expect(r.seconds.reduce((n, s) => n + s.shed, 0)).toBeLessThanOrEqual(r.shed);
    // Without the deadline the same target makes the last operations wait for the whole backlog.
    const unbounded = await runOpenLoop({
      ratePerSecond: 1000,
      durationMs: 400, // 400 operations at ~200/s: the last waits ~1.6 s
      maxInFlight: 4,
      execute: () => sleep(20),
    });
    expect(unbounded.shed).toBe(0);
    expect(unbounded.latency.maxMs).toBeGreaterThan(1000);
  }, 30_000);

  it("an absurd rate with a deadline sheds in bulk and ends on time, the event loop never held", async () => {
    let longestGapMs = 0;
    let last = performance.now();
    const probe = setInterval(() => {
      const t = performance.now();
      longestGapMs = Math.max(longestGapMs, t - last);
      last = t;
    }, 5);
    const r = await runOpenLoop({
      ratePerSecond: 1e9,
      durationMs: 500,
      maxInFlight: 4,
      shedAfterMs: 10,
      drainMs: 1000,
      execute: () => sleep(20),
    });
    clearInterval(probe);
    expect(r.offered).toBe(5e8);
    expect(r.sent + r.shed + r.unsent).toBe(r.offered);
    expect(r.shed).toBeGreaterThan(4e8);
    expect(r.achieved).toBe(r.sent);
    expect(r.elapsedMs).toBeLessThan(3000);
    expect(longestGapMs).toBeLessThan(500);
  });

  it("finishes as soon as the last operations were shed", async () => {
    let release = () => {};
    const gate = new Promise<void>((r) => {
      release = r;
    });
    setTimeout(() => release(), 300);
    const r = await runOpenLoop({
      ratePerSecond: 100,
      durationMs: 100,
      maxInFlight: 1,
      shedAfterMs: 10,
      drainMs: 60_000,
      execute: () => gate,
    });
    expect(r.achieved).toBe(1);
    expect(r.shed).toBe(9);
    expect(r.elapsedMs).toBeLessThan(5_000); // not the 60 s drain
  });

  it("a ramp climbs from 0 to the rate: nothing is sent ahead of its time, and the ramp offers half", async () => {
    const rate = 1000;
    const rampMs = 600;
    const started: number[] = [];
    const t0 = performance.now();
    const r = await runOpenLoop({
      ratePerSecond: rate,
      durationMs: 1200,
      rampMs,
      execute: async () => {
        started.push(performance.now() - t0);
      },
    });
    // 1000/s for 1.2 s, the first 0.6 s at half the rate on average: 1200 − 300.
    expect(r.offered).toBe(900);
    expect(r.achieved).toBe(900);
    // Operation i is due at sqrt(2 · ramp · i / rate) during the ramp: by 300 ms at most 75 + 1 were sent.
    const byQuarter = started.filter((t) => t < 300).length;
    expect(byQuarter).toBeLessThanOrEqual(76 + 1);
    started.forEach((t, i) => {
      const due = i < 300 ? Math.sqrt((2 * rampMs * i) / rate) : i / rate + rampMs / 2;
      expect(t).toBeGreaterThanOrEqual(due - 2); // never ahead of its time (timer slack aside)
    });
    expect(() =>
      runOpenLoop({ ratePerSecond: 10, durationMs: 100, rampMs: 200, execute: async () => {} }),
    ).toThrow(/rampMs/);
    expect(() => runOpenLoop({ ratePerSecond: 1e300, durationMs: 1000, execute: async () => {} })).toThrow(
      /more operations/,
    );
    expect(() => runOpenLoop({ ratePerSecond: 1, durationMs: 2 ** 31, execute: async () => {} })).toThrow(
      /2\^31/,
    );
  });

  it("counts rejections as errors and still finishes", async () => {
    const r = await runOpenLoop({
      ratePerSecond: 500,
      durationMs: 200,
      execute: async (i) => {
        if (i % 4 === 0) throw new Error("refused");
      },
    });
    expect(r.offered).toBe(100);
    expect(r.errors).toBe(25);
    expect(r.achieved).toBe(75);
  });

  it("stops sending when the drain time runs out and reports the rest as never sent", async () => {
    const r = await runOpenLoop({
      ratePerSecond: 1000,
      durationMs: 100,
      drainMs: 100,
      maxInFlight: 1,
      execute: () => sleep(50),
    });
    expect(r.offered).toBe(100);
    expect(r.unsent).toBeGreaterThan(80);
    expect(r.sent + r.unsent).toBe(100);
  });

  it("an abort stops sending at once and waits for what is in flight", async () => {
    const abort = new AbortController();
    setTimeout(() => abort.abort(), 300);
    const r = await runOpenLoop({
      ratePerSecond: 100,
      durationMs: 5000,
      signal: abort.signal,
      execute: () => sleep(100),
    });
    expect(r.elapsedMs).toBeLessThan(2000);
    expect(r.sent).toBeGreaterThanOrEqual(25);
    expect(r.sent).toBeLessThanOrEqual(45);
    expect(r.achieved).toBe(r.sent);
    expect(r.unsent).toBe(500 - r.sent);
  });
});
