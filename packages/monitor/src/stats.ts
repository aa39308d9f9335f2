// Small statistics helpers: percentiles over samples and a time-bounded sliding window of samples,
// used for alert evaluation and reports (prom-client histograms only expose buckets, not exact quantiles).

export interface Percentiles {
  count: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
  mean: number;
}

export const EMPTY_PERCENTILES: Percentiles = { count: 0, p50: 0, p95: 0, p99: 0, max: 0, mean: 0 };

/** Nearest-rank percentile of `sorted` (ascending); q in [0, 1]. */
export function quantileSorted(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return 0;
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[rank]!;
}

export function percentiles(values: readonly number[]): Percentiles {
  if (values.length === 0) return { ...EMPTY_PERCENTILES };
  const sorted = [...values].sort((a, b) => a - b);
  const sum = sorted.reduce((s, v) => s + v, 0);
  return {
    count: sorted.length,
    p50: quantileSorted(sorted, 0.5),
    p95: quantileSorted(sorted, 0.95),
    p99: quantileSorted(sorted, 0.99),
    max: sorted[sorted.length - 1]!,
    mean: sum / sorted.length,
  };
}

/** Samples with timestamps; old ones (older than `windowMs`) and ones past `maxSamples` are dropped. */
export class SlidingWindow {
  private readonly samples: Array<{ at: number; value: number }> = [];

  constructor(
    private readonly windowMs: number,
    private readonly maxSamples = 10_000,
  ) {}

  add(value: number, at: number): void {
    this.samples.push({ at, value });
    // Trimmed once per maxSamples adds, not on every add: a full window stays O(1) per sample.
    if (this.samples.length >= 2 * this.maxSamples)
      this.samples.splice(0, this.samples.length - this.maxSamples);
  }

  /** The newest `maxSamples` values younger than `windowMs`. */
  values(now: number): number[] {
    this.prune(now);
    const from = Math.max(0, this.samples.length - this.maxSamples);
    return this.samples.slice(from).map((s) => s.value);
  }

  percentiles(now: number): Percentiles {
    return percentiles(this.values(now));
  }

  private prune(now: number): void {
    const cutoff = now - this.windowMs;
    let drop = 0;
    while (drop < this.samples.length && this.samples[drop]!.at < cutoff) drop++;
    if (drop > 0) this.samples.splice(0, drop);
  }
}

/** Keeps every sample of a run (bounded by reservoir sampling) for the end-of-run report. */
export class Reservoir {
  private readonly kept: number[] = [];
  private seen = 0;

  constructor(
    private readonly capacity = 20_000,
    private readonly random: () => number = Math.random,
  ) {}

  add(value: number): void {
    this.seen++;
    if (this.kept.length < this.capacity) {
      this.kept.push(value);
      return;
    }
    const slot = Math.floor(this.random() * this.seen);
    if (slot < this.capacity) this.kept[slot] = value;
  }

  get count(): number {
    return this.seen;
  }

  percentiles(): Percentiles {
    const p = percentiles(this.kept);
    return { ...p, count: this.seen };
  }
}
