import { Histogram, Registry } from "prom-client";
import { describe, expect, it } from "vitest";
import { lagBuckets, newObservations } from "./applied-lag.js";

/** A consumer's registry with the same histogram it exposes. */
function consumerMetrics() {
  const registry = new Registry();
  registry.setDefaultLabels({ service: "invalidation-consumer", region: "eu-west" });
  const h = new Histogram({
    name: "meridian_convergence_lag_seconds",
    help: "lag",
    labelNames: ["origin"],
    buckets: [0.025, 0.05, 0.1, 0.15, 0.25, 0.5, 1, 2, 5, 10, 30],
    registers: [registry],
  });
  return { registry, h };
}

describe("propagation times from a consumer's /metrics", () => {
  it("yields each update merged between two scrapes at its bucket's upper bound, per origin", async () => {
    const { registry, h } = consumerMetrics();
    h.observe({ origin: "us-east" }, 0.03);
    const before = lagBuckets(await registry.metrics());
    for (const s of [0.01, 0.2, 0.2, 4.9, 5.1]) h.observe({ origin: "us-east" }, s);
    h.observe({ origin: "ap-south" }, 45);
    const found = newObservations(before, lagBuckets(await registry.metrics()));
    expect(found.get("us-east")).toEqual([
      [25, 1],
      [250, 2],
      [5000, 1],
      [10_000, 1],
    ]);
    expect(found.get("ap-south")).toEqual([[60_000, 1]]); // beyond the last bucket: twice its bound
  });

  it("never reports a lag below the true one, and nothing when nothing new was merged", async () => {
    const { registry, h } = consumerMetrics();
    const lags = Array.from({ length: 200 }, (_, i) => (i * 37) % 9000);
    const empty = lagBuckets(await registry.metrics());
    for (const ms of lags) h.observe({ origin: "us-west" }, ms / 1000);
    const after = lagBuckets(await registry.metrics());
    const reported = (newObservations(empty, after).get("us-west") ?? []).flatMap(([ms, n]) =>
      Array<number>(n).fill(ms),
    );
    expect(reported).toHaveLength(lags.length);
    const sortedTrue = [...lags].sort((a, b) => a - b);
    for (const [i, ms] of reported.sort((a, b) => a - b).entries()) {
      expect(ms).toBeGreaterThanOrEqual(sortedTrue[i]!);
    }
    expect(newObservations(after, after).size).toBe(0);
  });
});
