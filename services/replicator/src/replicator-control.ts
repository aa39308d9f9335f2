// Run-time control of the replicator (what the admin API calls): partition / heal a region, change the
// WAN latency matrix, status, and drain (wait until everything received so far was delivered).
import { parseRegion } from "@meridian/core";
import type { Logger } from "@meridian/service-kit";
import { type LatencyMatrix, mergeLatency } from "@meridian/wan";
import type { Delivery, Forwarder } from "./forwarder.js";
import type { OffsetTracker } from "./offset-tracker.js";
import type { ReplicatorHandle } from "./replicator.js";
import type { createReplicatorMetrics } from "./replicator-metrics.js";
import type { WanLinks } from "./wan-links.js";

export interface ControlDeps {
  regions: string[];
  /** The matrix the links read their delays from (changed in place). */
  latency: { matrix: LatencyMatrix };
  links: WanLinks<Delivery>;
  tracker: OffsetTracker;
  forwarder: Forwarder;
  metrics: ReturnType<typeof createReplicatorMetrics>;
  log: Logger;
}

export function replicatorControls(d: ControlDeps): Omit<ReplicatorHandle, "url" | "stop"> {
  const checkRegion = (region: string): void => {
    parseRegion(region, d.regions);
  };
  return {
    partition(region) {
      checkRegion(region);
      d.links.partition(region);
      d.metrics.partitionedGauge.set({ region }, 1);
      d.log.info({ region }, "region partitioned: its links hold messages");
    },
    heal(region) {
      checkRegion(region);
      d.links.heal(region);
      d.metrics.partitionedGauge.set({ region }, 0);
      d.log.info({ region, held: d.links.size() }, "region healed: releasing held messages");
      d.forwarder.schedule();
    },
    setLatency(next) {
      d.latency.matrix = mergeLatency(d.latency.matrix, d.regions, next);
      d.log.info({ latency: d.latency.matrix }, "latency matrix changed");
    },
    status() {
      return {
        partitions: d.links.partitions(),
        held: d.links.depths(),
        inFlight: d.tracker.inFlight(),
        forwarded: d.forwarder.forwarded,
        latencyMs: d.latency.matrix,
      };
    },
    async drain(timeoutMs = 10_000) {
      const deadline = Date.now() + timeoutMs;
      while (Date.now() < deadline) {
        if (d.tracker.inFlight() === 0) return true;
        await new Promise((r) => setTimeout(r, 20));
      }
      return d.tracker.inFlight() === 0;
    },
  };
}
