// Prometheus view of supervised consumers: restarts (a counter), last progress and "stalled" (gauges),
// read from each consumer's health() at scrape time. Labels `service`/`region` come from the registry's
// default labels; `consumer` is the group id.
import { Counter, Gauge, type Registry } from "prom-client";
import type { ConsumerHealth } from "./supervisor.js";

export type HealthSource = () => ConsumerHealth;

const sourcesByRegistry = new WeakMap<Registry, HealthSource[]>();

/** Exposes `source`'s health through `registry` (metrics are created once per registry). */
export function registerConsumerMetrics(registry: Registry, source: HealthSource): void {
  const known = sourcesByRegistry.get(registry);
  if (known) {
    known.push(source);
    return;
  }
  const sources = [source];
  sourcesByRegistry.set(registry, sources);
  const seenRestarts = new Map<string, number>();
  new Counter({
    name: "meridian_consumer_restarts_total",
    help: "Consumers replaced after a crash kafkajs would not recover from",
    labelNames: ["consumer"],
    registers: [registry],
    collect() {
      for (const h of sources.map((s) => s())) {
        const delta = h.restarts - (seenRestarts.get(h.name) ?? 0);
        seenRestarts.set(h.name, h.restarts);
        this.inc({ consumer: h.name }, Math.max(0, delta));
      }
    },
  });
  new Gauge({
    name: "meridian_consumer_last_progress_timestamp_seconds",
    help: "Last commit, or last fetch with no record failing (unix seconds)",
    labelNames: ["consumer"],
    registers: [registry],
    collect() {
      for (const h of sources.map((s) => s())) this.set({ consumer: h.name }, h.lastProgressAtMs / 1000);
    },
  });
  new Gauge({
    name: "meridian_consumer_stalled",
    help: "1 while the consumer is down or a record has been failing longer than its stall bound",
    labelNames: ["consumer"],
    registers: [registry],
    collect() {
      for (const h of sources.map((s) => s())) this.set({ consumer: h.name }, h.stalled ? 1 : 0);
    },
  });
}
