// Convergence per region pair while load runs: for every update merged into region B that was written in
// region A, the time from the write at A to the merge at B (the consumers' `applied` events), kept per
// (A → B) as an HDR histogram — over the whole run and over the current progress window. Only writes
// made after start() count, so the figures describe the load, not what came before it.
import type { AppliedEvent } from "@meridian/invalidation-consumer";
import { LatencyHistogram, type LatencySummary } from "./histogram.js";

/** `cluster.events` of an in-process cluster. */
export interface AppliedFeed {
  on(event: "applied", listener: (e: AppliedEvent) => void): unknown;
  off(event: "applied", listener: (e: AppliedEvent) => void): unknown;
}

export interface PairRow extends LatencySummary {
  origin: string;
  region: string;
}

export class PairConvergence {
  private readonly total = new Map<string, LatencyHistogram>();
  private readonly window = new Map<string, LatencyHistogram>();
  private readonly all = new LatencyHistogram();
  private readonly listener = (e: AppliedEvent) => this.record(e);
  private sinceMs = Number.POSITIVE_INFINITY;

  constructor(
    private readonly feed: AppliedFeed,
    readonly regions: readonly string[],
  ) {}

  /** Counts updates written from now on (wall clock, as the events carry it). */
  start(nowMs = Date.now()): this {
    this.sinceMs = nowMs;
    this.feed.on("applied", this.listener);
    return this;
  }

  stop(): void {
    this.feed.off("applied", this.listener);
  }

  record(e: AppliedEvent): void {
    if (e.originRegion === e.region || e.atMs - e.lagMs < this.sinceMs) return;
    const k = pairKey(e.originRegion, e.region);
    histogram(this.total, k).record(e.lagMs);
    histogram(this.window, k).record(e.lagMs);
    this.all.record(e.lagMs);
  }

  /** Every pair since start(). */
  rows(): PairRow[] {
    return this.collect(this.total);
  }

  /** Every pair since the previous call, then a new window. */
  takeWindow(): PairRow[] {
    const rows = this.collect(this.window);
    for (const h of this.window.values()) h.reset();
    return rows;
  }

  /** Every pair together, since start(). */
  overall(): LatencySummary {
    return this.all.summary();
  }

  private collect(from: Map<string, LatencyHistogram>): PairRow[] {
    const rows: PairRow[] = [];
    for (const origin of this.regions)
      for (const region of this.regions) {
        if (origin === region) continue;
        const h = from.get(pairKey(origin, region));
        rows.push({
          origin,
          region,
          ...(h?.summary() ?? { count: 0, p50Ms: Number.NaN, p99Ms: Number.NaN, maxMs: Number.NaN }),
        });
      }
    return rows;
  }
}

const pairKey = (origin: string, region: string) => `${origin}\u0000${region}`;

function histogram(m: Map<string, LatencyHistogram>, k: string): LatencyHistogram {
  let h = m.get(k);
  if (!h) {
    h = new LatencyHistogram();
    m.set(k, h);
  }
  return h;
}
