// prom-client view of the L1 counters. The hot path only bumps plain numbers; each scrape adds what
// changed since the last one to the counters, so a hit costs no label lookup.
import type { DataClass } from "@meridian/core";
import { Counter, Gauge, Registry } from "prom-client";
import type { L1Counters } from "./l1.js";

export interface MetricSources {
  l1: Record<DataClass, { counters: L1Counters; size: number; bytes: number }>;
  leaseWaits: () => number;
  trackingGaps: () => number;
}

export function clientMetrics(src: MetricSources, registry = new Registry()): Registry {
  const last = new Map<string, number>();
  const delta = (name: string, now: number) => {
    const d = now - (last.get(name) ?? 0);
    last.set(name, now);
    return d;
  };
  const perClass = (name: string, help: string, field: keyof L1Counters) =>
    new Counter({
      name,
      help,
      labelNames: ["class"],
      registers: [registry],
      collect() {
        for (const [cls, l1] of Object.entries(src.l1)) {
          this.inc({ class: cls }, delta(`${name}:${cls}`, l1.counters[field]));
        }
      },
    });
  perClass("meridian_client_l1_hits_total", "Reads served from the in-process L1", "hits");
  perClass("meridian_client_l1_misses_total", "Reads that went to L2 (or the database)", "misses");
  perClass("meridian_client_l1_evictions_total", "L1 copies evicted by the entry or byte bound", "evictions");
  perClass(
    "meridian_client_l1_invalidations_total",
    "L1 copies dropped by invalidations and local writes",
    "invalidations",
  );
  new Counter({
    name: "meridian_client_lease_waits_total",
    help: "Critical operations that waited on a lease (a holder's expiry, or renewing this node's own)",
    registers: [registry],
    collect() {
      this.inc(delta("leaseWaits", src.leaseWaits()));
    },
  });
  new Counter({
    name: "meridian_client_tracking_gaps_total",
    help: "Times key tracking was lost (important copies re-validated)",
    registers: [registry],
    collect() {
      this.inc(delta("trackingGaps", src.trackingGaps()));
    },
  });
  new Gauge({
    name: "meridian_client_l1_entries",
    help: "Copies held in the L1",
    labelNames: ["class"],
    registers: [registry],
    collect() {
      for (const [cls, l1] of Object.entries(src.l1)) this.set({ class: cls }, l1.size);
    },
  });
  new Gauge({
    name: "meridian_client_l1_bytes",
    help: "Approximate bytes held in the L1 (serialized size of keys and values)",
    labelNames: ["class"],
    registers: [registry],
    collect() {
      for (const [cls, l1] of Object.entries(src.l1)) this.set({ class: cls }, l1.bytes);
    },
  });
  return registry;
}
