// The replicator's Prometheus metrics, declared in one place (names documented in services/README.md).
import { Counter, Gauge, Histogram, type Registry } from "prom-client";

export function createReplicatorMetrics(registry: Registry) {
  const forwardedTotal = new Counter({
    name: "meridian_replicator_forwarded_total",
    help: "Messages produced into a destination region's inbound topic",
    labelNames: ["from", "to"],
    registers: [registry],
  });
  const heldGauge = new Gauge({
    name: "meridian_replicator_held_messages",
    help: "Messages waiting on a WAN link (latency or partition)",
    labelNames: ["link"],
    registers: [registry],
  });
  const partitionedGauge = new Gauge({
    name: "meridian_replicator_partitioned",
    help: "1 while the region is partitioned from the others",
    labelNames: ["region"],
    registers: [registry],
  });
  const linkDelay = new Histogram({
    name: "meridian_replicator_link_delay_seconds",
    help: "Time from the replicator receiving a message to the destination acknowledging it",
    labelNames: ["from", "to"],
    buckets: [0.01, 0.025, 0.05, 0.1, 0.15, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [registry],
  });
  const consumeLag = new Histogram({
    name: "meridian_replicator_consume_lag_seconds",
    help: "Append to the source updates topic → received by the replicator",
    labelNames: ["from"],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [registry],
  });
  const produceErrors = new Counter({
    name: "meridian_replicator_produce_errors_total",
    help: "Failed produce attempts (retried)",
    registers: [registry],
  });
  return { forwardedTotal, heldGauge, partitionedGauge, linkDelay, consumeLag, produceErrors };
}
