// Metrics of the region node's coherent L1 (the `cacheable` near cache): hits, misses and the coherence
// messages it received or sent, read from the near cache's own counters when Prometheus scrapes.
import type { NearCacheStats } from "@meridian/coherence";
import { coherenceMessagesCounter } from "@meridian/monitor";
import { Counter, type Registry } from "prom-client";

/** Near-cache counter → coherence message type (MESI directory protocol names). */
const MESSAGE_TYPES = {
  invalidationsReceived: "Inv",
  recallsServed: "Recall",
  writebacks: "WriteBack",
} as const satisfies Partial<Record<keyof NearCacheStats, string>>;

function counterFrom(registry: Registry, name: string, help: string, read: () => number | undefined): void {
  new Counter({
    name,
    help,
    registers: [registry],
    collect() {
      this.reset();
      this.inc(read() ?? 0);
    },
  });
}

/** `stats()` is undefined when the node serves `cacheable` without the coherent L1: every count is 0. */
export function registerL1Metrics(registry: Registry, stats: () => NearCacheStats | undefined): void {
  counterFrom(
    registry,
    "meridian_l1_hits_total",
    "cacheable reads served from the in-process L1",
    () => stats()?.l1Hits,
  );
  counterFrom(
    registry,
    "meridian_l1_misses_total",
    "cacheable reads that went to the region's Redis (L2)",
    () => stats()?.l1Misses,
  );
  coherenceMessagesCounter([registry], function collect() {
    this.reset();
    const s = stats();
    for (const [field, type] of Object.entries(MESSAGE_TYPES)) {
      this.inc({ type }, s ? s[field as keyof typeof MESSAGE_TYPES] : 0);
    }
  });
}
