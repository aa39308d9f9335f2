// The invalidation consumer's own metrics (merges by outcome, dead letters by code, convergence lag) and
// the recorder that feeds them — plus the launcher's onApplied hook — for every merged record.

import type { Registry } from "prom-client";
import { Counter, Histogram } from "prom-client";
import type { AppliedEvent } from "./convergence.js";
import type { Decoded } from "./merge-records.js";

export interface ConsumerMetrics {
  appliedTotal: Counter<"outcome">;
  deadLetterTotal: Counter<"code">;
  lagHistogram: Histogram<"origin">;
}

export function createConsumerMetrics(registry: Registry): ConsumerMetrics {
  return {
    appliedTotal: new Counter({
      name: "meridian_consumer_applied_total",
      help: "Inbound updates merged into the region's Redis, by merge outcome",
      labelNames: ["outcome"],
      registers: [registry],
    }),
    deadLetterTotal: new Counter({
      name: "meridian_consumer_dead_letter_total",
      help: "Inbound messages sent to the dead-letter topic",
      labelNames: ["code"],
      registers: [registry],
    }),
    lagHistogram: new Histogram({
      name: "meridian_convergence_lag_seconds",
      help: "Write at the origin region → merge acknowledged by this region's Redis",
      labelNames: ["origin"],
      buckets: [0.025, 0.05, 0.1, 0.15, 0.25, 0.5, 1, 2, 5, 10, 30],
      registers: [registry],
    }),
  };
}

/** Counts, observes the lag of and reports each merged record; `count()` is the number merged so far. */
export function appliedRecorder(
  metrics: ConsumerMetrics,
  region: string,
  onApplied: ((event: AppliedEvent) => void) | undefined,
): { record(d: Decoded, outcome: string): void; count(): number } {
  let applied = 0;
  return {
    record(d, outcome) {
      const now = Date.now();
      const lagMs = Math.max(0, now - Number(d.update.producedAtMs));
      applied += 1;
      metrics.appliedTotal.inc({ outcome });
      metrics.lagHistogram.observe({ origin: d.update.region }, lagMs / 1000);
      const releasedAt = Number(d.msg.headers["meridian-replicated-at-ms"]);
      onApplied?.({
        region,
        key: d.update.key,
        originRegion: d.update.region,
        outcome,
        lagMs,
        ...(Number.isFinite(releasedAt) ? { inboundHopMs: now - releasedAt } : {}),
        atMs: now,
      });
    },
    count: () => applied,
  };
}
