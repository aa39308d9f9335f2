// registerConsumerMetrics follows each consumer's health at scrape time (the alert rules over these
// metrics are checked against them in test/monitor/prometheus-rules.test.ts).
import { Registry } from "prom-client";
import { describe, expect, it } from "vitest";
import { registerConsumerMetrics } from "./consumer-metrics.js";
import type { ConsumerHealth } from "./supervisor.js";

const health: ConsumerHealth = {
  name: "g1",
  state: "running",
  restarts: 0,
  lastCrash: undefined,
  lastProgressAtMs: 1_700_000_000_000,
  blockedSinceMs: undefined,
  stalled: false,
};

describe("consumer metrics", () => {
  it("expose restarts, last progress and stalled per consumer, read at scrape time", async () => {
    const registry = new Registry();
    const a = { ...health };
    const b = { ...health, name: "g2", restarts: 3, stalled: true };
    registerConsumerMetrics(registry, () => a);
    registerConsumerMetrics(registry, () => b);
    a.restarts = 2;
    const text = await registry.metrics();
    expect(text).toContain('meridian_consumer_restarts_total{consumer="g1"} 2');
    expect(text).toContain('meridian_consumer_restarts_total{consumer="g2"} 3');
    expect(text).toContain('meridian_consumer_stalled{consumer="g2"} 1');
    expect(text).toContain('meridian_consumer_last_progress_timestamp_seconds{consumer="g1"} 1700000000');
    a.restarts = 5;
    expect(await registry.metrics()).toContain('meridian_consumer_restarts_total{consumer="g1"} 5');
  });
});
