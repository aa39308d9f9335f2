// The prom-client metrics of Meridian's consistency monitoring, all prefixed `meridian_`.
// One instance per registry: pass the service's registry so the metrics show up on its /metrics.
import { Counter, Gauge, Histogram, Registry } from "prom-client";

/** Seconds buckets for staleness / convergence: 1 ms … 30 s, dense around the 5 s convergence target. */
const SECONDS_BUCKETS = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 3, 5, 7.5, 10, 20, 30];
const LOCK_BUCKETS = [0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

/**
 * Cache-coherence protocol messages by type. Shared with the region nodes, which count their coherent L1's
 * messages through `collect` (read from the near cache's own counters at scrape time).
 */
export function coherenceMessagesCounter(
  registers: Registry[],
  collect?: (this: Counter<"type">) => void,
): Counter<"type"> {
  return new Counter({
    name: "meridian_coherence_messages_total",
    help: "Cache-coherence protocol messages, by type (GetS, GetM, Inv, InvAck, Data, WriteBack...)",
    labelNames: ["type"],
    registers,
    ...(collect ? { collect } : {}),
  });
}

/**
 * Lock wait / hold time by lock namespace. Shared with the region nodes, which take distributed locks
 * themselves (fenced transfers) and expose the same series on their own /metrics.
 */
export function lockHistograms(registers: Registry[]): {
  wait: Histogram<"namespace">;
  hold: Histogram<"namespace">;
} {
  const histogram = (name: string, help: string) =>
    new Histogram({ name, help, labelNames: ["namespace"], buckets: LOCK_BUCKETS, registers });
  return {
    wait: histogram("meridian_lock_wait_seconds", "Time spent waiting to acquire a distributed lock"),
    hold: histogram("meridian_lock_hold_seconds", "Time a distributed lock was held"),
  };
}

export class MonitorMetrics {
  readonly registry: Registry;
  readonly readStaleness: Histogram<"class" | "region">;
  readonly convergence: Histogram<"region_a" | "region_b">;
  readonly regionLag: Gauge<"region">;
  readonly violations: Counter<"kind">;
  readonly checks: Counter<"kind">;
  readonly violationRate: Gauge;
  readonly operations: Counter<"region" | "class" | "op">;
  readonly operationLatency: Histogram<"class" | "op">;
  readonly lockWait: Histogram<"namespace">;
  readonly lockHold: Histogram<"namespace">;
  readonly coherenceMessages: Counter<"type">;
  readonly consumerLag: Gauge<"region" | "group">;
  readonly alertsFiring: Gauge<"alert">;

  constructor(registry: Registry = new Registry()) {
    this.registry = registry;
    const registers = [registry];
    this.readStaleness = new Histogram({
      name: "meridian_read_staleness_seconds",
      help: "Age of the data a read returned, per data class and region",
      labelNames: ["class", "region"],
      buckets: SECONDS_BUCKETS,
      registers,
    });
    this.convergence = new Histogram({
      name: "meridian_convergence_seconds",
      help: "Time from a divergence between two regions being seen until their digests agree again",
      labelNames: ["region_a", "region_b"],
      buckets: SECONDS_BUCKETS,
      registers,
    });
    this.regionLag = new Gauge({
      name: "meridian_region_convergence_lag_seconds",
      help: "How long the region's oldest still-divergent key has differed from the majority",
      labelNames: ["region"],
      registers,
    });
    this.violations = new Counter({
      name: "meridian_consistency_violations_total",
      help: "Consistency violations found by the monitor, by kind",
      labelNames: ["kind"],
      registers,
    });
    this.checks = new Counter({
      name: "meridian_consistency_checks_total",
      help: "Consistency checks the monitor performed, by kind",
      labelNames: ["kind"],
      registers,
    });
    this.violationRate = new Gauge({
      name: "meridian_consistency_violation_ratio",
      help: "Violations divided by operations observed since start (target < 0.00001)",
      registers,
    });
    this.operations = new Counter({
      name: "meridian_operations_total",
      help: "Cache operations observed by the monitor",
      labelNames: ["region", "class", "op"],
      registers,
    });
    this.operationLatency = new Histogram({
      name: "meridian_operation_latency_seconds",
      help: "Latency of cache operations observed by the monitor",
      labelNames: ["class", "op"],
      buckets: LOCK_BUCKETS,
      registers,
    });
    ({ wait: this.lockWait, hold: this.lockHold } = lockHistograms(registers));
    this.coherenceMessages = coherenceMessagesCounter(registers);
    this.consumerLag = new Gauge({
      name: "meridian_consumer_lag_messages",
      help: "Kafka consumer lag (log end offset minus committed offset), per region and group",
      labelNames: ["region", "group"],
      registers,
    });
    this.alertsFiring = new Gauge({
      name: "meridian_alerts_firing",
      help: "1 while the alert fires, 0 otherwise",
      labelNames: ["alert"],
      registers,
    });
  }
}
