// Convergence figures per region: how long after a write somewhere the update was merged into this
// region's Redis (producedAtMs at the writer → merge acknowledged here). A bounded window of recent
// samples per region, summarised as count / p50 / p99 / max.
import { EventEmitter } from "node:events";

export interface ConvergenceSummary {
  count: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
}

export interface AppliedEvent {
  region: string;
  key: string;
  originRegion: string;
  outcome: string;
  lagMs: number;
  /** Part of lagMs spent after the replicator released the message (inbound topic + merge). */
  inboundHopMs?: number;
  atMs: number;
}

/** Nearest-rank quantile of an ascending sorted array; 0 for an empty one. */
export function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return 0;
  const rank = Math.ceil(q * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))]!;
}

export function summarize(samples: readonly number[]): ConvergenceSummary {
  const sorted = [...samples].sort((a, b) => a - b);
  return {
    count: sorted.length,
    p50Ms: quantile(sorted, 0.5),
    p99Ms: quantile(sorted, 0.99),
    maxMs: sorted.length ? sorted[sorted.length - 1]! : 0,
  };
}

/**
 * Collects `applied` events from every region's invalidation consumer. Emits them again (`on("applied")`)
 * for live views such as the demo dashboard.
 */
export class ConvergenceTracker extends EventEmitter<{ applied: [AppliedEvent] }> {
  private readonly windows = new Map<string, number[]>();

  constructor(private readonly windowSize = 10_000) {
    super();
  }

  record(event: AppliedEvent): void {
    let w = this.windows.get(event.region);
    if (!w) {
      w = [];
      this.windows.set(event.region, w);
    }
    w.push(event.lagMs);
    // Trimmed once per windowSize samples, not on every one: recording stays O(1) per merged update.
    if (w.length >= 2 * this.windowSize) w.splice(0, w.length - this.windowSize);
    this.emit("applied", event);
  }

  /** Per region summary of the newest `windowSize` samples (regions with no samples are omitted). */
  stats(): Record<string, ConvergenceSummary> {
    const out: Record<string, ConvergenceSummary> = {};
    for (const [region, w] of this.windows) out[region] = summarize(w.slice(-this.windowSize));
    return out;
  }

  reset(): void {
    this.windows.clear();
  }
}
