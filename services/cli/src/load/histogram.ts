// Latency percentiles in bounded memory: an HDR histogram (3 significant digits) of microseconds, so a
// minute at tens of thousands of operations per second costs kilobytes, not an array of every sample.
import * as hdr from "hdr-histogram-js";

export interface LatencySummary {
  count: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
}

export class LatencyHistogram {
  private readonly h = hdr.build({
    lowestDiscernibleValue: 1,
    highestTrackableValue: 3_600_000_000, // one hour in µs; auto-resize covers anything longer
    numberOfSignificantValueDigits: 3,
  });

  record(ms: number): void {
    this.h.recordValue(Math.max(0, Math.round(ms * 1000)));
  }

  get count(): number {
    return this.h.totalCount;
  }

  /** Value in ms at percentile p (0..100); NaN when empty. */
  percentile(p: number): number {
    return this.count === 0 ? Number.NaN : this.h.getValueAtPercentile(p) / 1000;
  }

  summary(): LatencySummary {
    return {
      count: this.count,
      p50Ms: this.percentile(50),
      p99Ms: this.percentile(99),
      maxMs: this.count === 0 ? Number.NaN : this.h.maxValue / 1000,
    };
  }

  reset(): void {
    this.h.reset();
  }
}
