// Per-update propagation times of consumers that run as their own processes, read from their /metrics:
// each scrape's new observations of meridian_convergence_lag_seconds{origin} (write at the origin →
// merged into this region's Redis), one event per update, at its bucket's upper bound — never less than
// the true lag. In-process clusters get the same events exactly (the consumers' `applied` events); without
// them a monitor can only time convergence by comparing the regions' Redis, at the resolution of its own
// ticks, which on a loaded machine are seconds apart.

export interface LagEvent {
  /** The region that merged the update. */
  region: string;
  originRegion: string;
  /** Upper bound of the update's write → merge time (its histogram bucket's `le`). */
  lagMs: number;
  atMs: number;
}

const BUCKET = /^meridian_convergence_lag_seconds_bucket\{([^}]*)\} ([0-9.e+]+)$/gm;

/** Cumulative bucket counts per origin: origin → [le seconds, count][] in exposition order. */
export function lagBuckets(metricsText: string): Map<string, [number, number][]> {
  const out = new Map<string, [number, number][]>();
  for (const [, labels, value] of metricsText.matchAll(BUCKET)) {
    const origin = /(?:^|,)origin="([^"]*)"/.exec(labels!)?.[1];
    const le = /(?:^|,)le="([^"]*)"/.exec(labels!)?.[1];
    if (origin === undefined || le === undefined) continue;
    const list = out.get(origin) ?? [];
    list.push([le === "+Inf" ? Number.POSITIVE_INFINITY : Number(le), Number(value)]);
    out.set(origin, list);
  }
  return out;
}

/**
 * The updates observed between two scrapes, as [upper bound in ms, how many] per origin. An update beyond
 * the last finite bucket is given twice that bound (the histogram does not say more).
 */
export function newObservations(
  before: Map<string, [number, number][]>,
  after: Map<string, [number, number][]>,
): Map<string, [number, number][]> {
  const out = new Map<string, [number, number][]>();
  for (const [origin, buckets] of after) {
    const prev = new Map(before.get(origin) ?? []);
    const sorted = [...buckets].sort((a, b) => a[0] - b[0]);
    const found: [number, number][] = [];
    let below = 0;
    let lastFinite = 0;
    for (const [le, cumulative] of sorted) {
      const added = cumulative - (prev.get(le) ?? 0);
      const inBucket = added - below;
      below = added;
      const boundMs = Number.isFinite(le) ? le * 1000 : 2 * lastFinite;
      if (Number.isFinite(le)) lastFinite = le * 1000;
      if (inBucket > 0) found.push([boundMs, inBucket]);
    }
    if (found.length > 0) out.set(origin, found);
  }
  return out;
}

/**
 * Polls each consumer's /metrics every `intervalMs` and calls `onLag` once per update merged since the
 * previous poll (the first poll only sets the baseline). Returns a function that stops polling.
 */
export function followLagMetrics(
  consumers: () => Array<{ region: string; url: string } | undefined>,
  onLag: (e: LagEvent) => void,
  intervalMs = 1000,
): () => void {
  const seen = new Map<string, Map<string, [number, number][]>>();
  let busy = false;
  const poll = async () => {
    if (busy) return;
    busy = true;
    try {
      await Promise.all(
        consumers().map(async (c) => {
          if (!c) return;
          const text = await fetch(`${c.url}/metrics`, { signal: AbortSignal.timeout(intervalMs * 2) })
            .then((r) => r.text())
            .catch(() => undefined);
          if (text === undefined) return;
          const now = lagBuckets(text);
          const before = seen.get(c.url);
          seen.set(c.url, now);
          if (!before) return;
          const at = Date.now();
          for (const [originRegion, found] of newObservations(before, now)) {
            if (originRegion === c.region) continue;
            for (const [lagMs, n] of found) {
              for (let i = 0; i < n; i++) onLag({ region: c.region, originRegion, lagMs, atMs: at });
            }
          }
        }),
      );
    } finally {
      busy = false;
    }
  };
  const timer = setInterval(() => void poll(), intervalMs);
  timer.unref();
  void poll();
  return () => clearInterval(timer);
}
