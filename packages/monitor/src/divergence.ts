// Cross-region divergence of eventual data, found by comparing per-key digests of every region and timed
// until it closes. Each tick compares the regions' snapshots key by key:
//  - a region pair whose digests differ opens an episode; when they agree again the episode's length is one
//    convergence-time observation for that pair;
//  - a region that differs from the majority digest of a key is "behind" on it; its lag is the age of its
//    oldest such key (a stalled region's lag grows without bound);
//  - a key divergent for longer than the window (5 s target) is a violation, once per episode.
// Resolution is the tick interval: an episode shorter than one tick may go unseen, and a seen one is
// measured from the first tick that saw it.
import type { MonitorMetrics } from "./metrics.js";
import type { KeyDigests } from "./probes.js";
import { type Percentiles, Reservoir } from "./stats.js";
import type { Violation, ViolationLog } from "./violations.js";

const ABSENT = "\u2205";

interface KeyEpisode {
  openedAt: number;
  flagged: boolean;
  pairs: Map<string, number>;
  behindSince: Map<string, number>;
}

export interface ConvergenceObservation {
  key: string;
  regionA: string;
  regionB: string;
  ms: number;
  at: number;
}

export interface DivergenceTickResult {
  keysCompared: number;
  divergentKeys: number;
  closed: ConvergenceObservation[];
  violations: Violation[];
}

/** What the monitor needs from a divergence tracker (digest-majority or lattice based). */
export interface DivergenceDetector {
  readonly windowMs: number;
  tick(snapshots: ReadonlyMap<string, KeyDigests>, now: number): DivergenceTickResult;
  regionLagMs(region: string, now: number): number;
  openEpisodes(now: number): Array<{ key: string; ageMs: number; behind: string[] }>;
  convergenceStats(): {
    overall: Percentiles;
    perPair: Record<string, Percentiles>;
    perRegion: Record<string, Percentiles | null>;
  };
  /** A region caught up on a key: `ms` from the data appearing (or diverging) until it had it. */
  onRegionCaughtUp(listener: (region: string, ms: number, at: number) => void): void;
}

export class DivergenceTracker implements DivergenceDetector {
  private readonly episodes = new Map<string, KeyEpisode>();
  private readonly pairTimes = new Map<string, Reservoir>();
  private readonly regionTimes = new Map<string, Reservoir>();
  private readonly allTimes = new Reservoir();
  private readonly listeners: Array<(o: ConvergenceObservation) => void> = [];
  private readonly regionListeners: Array<(region: string, ms: number, at: number) => void> = [];

  constructor(
    private readonly regions: readonly string[],
    private readonly log: ViolationLog,
    private readonly metrics?: MonitorMetrics,
    readonly windowMs = 5000,
  ) {}

  onConverged(listener: (o: ConvergenceObservation) => void): void {
    this.listeners.push(listener);
  }

  onRegionCaughtUp(listener: (region: string, ms: number, at: number) => void): void {
    this.regionListeners.push(listener);
  }

  /** Compares the regions' snapshots taken at `now`. */
  tick(snapshots: ReadonlyMap<string, KeyDigests>, now: number): DivergenceTickResult {
    const keys = new Set<string>(this.episodes.keys());
    for (const snap of snapshots.values()) for (const k of snap.keys()) keys.add(k);
    const result: DivergenceTickResult = {
      keysCompared: keys.size,
      divergentKeys: 0,
      closed: [],
      violations: [],
    };
    for (const key of keys) {
      const digests = this.regions.map((r) => snapshots.get(r)?.get(key) ?? ABSENT);
      if (this.compareKey(key, digests, now, result)) result.divergentKeys++;
    }
    this.log.countCheck("divergence", keys.size);
    this.metrics?.checks.inc({ kind: "divergence" }, keys.size);
    for (const r of this.regions) this.metrics?.regionLag.set({ region: r }, this.regionLagMs(r, now) / 1000);
    return result;
  }

  /** Returns whether the key is divergent after this tick. */
  private compareKey(key: string, digests: string[], now: number, out: DivergenceTickResult): boolean {
    const allEqual = digests.every((d) => d === digests[0]);
    let ep = this.episodes.get(key);
    if (allEqual) {
      if (ep) this.closeEpisode(key, ep, now, out);
      return false;
    }
    if (!ep) {
      ep = { openedAt: now, flagged: false, pairs: new Map(), behindSince: new Map() };
      this.episodes.set(key, ep);
    }
    const majority = modeOf(digests);
    this.regions.forEach((r, i) => {
      if (digests[i] !== majority) {
        if (!ep.behindSince.has(r)) ep.behindSince.set(r, now);
      } else {
        const since = ep.behindSince.get(r);
        if (since !== undefined) {
          this.observeRegion(r, now - since, now);
          ep.behindSince.delete(r);
        }
      }
    });
    for (let i = 0; i < this.regions.length; i++) {
      for (let j = i + 1; j < this.regions.length; j++) {
        const id = pairId(this.regions[i]!, this.regions[j]!);
        const opened = ep.pairs.get(id);
        if (digests[i] !== digests[j]) {
          if (opened === undefined) ep.pairs.set(id, now);
        } else if (opened !== undefined) {
          this.observePair(key, this.regions[i]!, this.regions[j]!, now - opened, now, out);
          ep.pairs.delete(id);
        }
      }
    }
    if (!ep.flagged && now - ep.openedAt > this.windowMs) {
      ep.flagged = true;
      const behind = [...ep.behindSince.keys()];
      const v: Violation = {
        kind: "convergence_window_exceeded",
        at: now,
        key,
        region: behind.join(","),
        message: `key ${key} still differs across regions (${behind.join(", ") || "split"}) after ${now - ep.openedAt} ms`,
        details: { divergentForMs: now - ep.openedAt, windowMs: this.windowMs, behind },
      };
      this.log.record(v);
      this.metrics?.violations.inc({ kind: v.kind });
      out.violations.push(v);
    }
    return true;
  }

  private closeEpisode(key: string, ep: KeyEpisode, now: number, out: DivergenceTickResult): void {
    for (const [id, opened] of ep.pairs) {
      const [a, b] = id.split("|") as [string, string];
      this.observePair(key, a, b, now - opened, now, out);
    }
    for (const [r, since] of ep.behindSince) this.observeRegion(r, now - since, now);
    this.allTimes.add(now - ep.openedAt);
    this.episodes.delete(key);
  }

  private observePair(
    key: string,
    x: string,
    y: string,
    ms: number,
    now: number,
    out: DivergenceTickResult,
  ): void {
    const [a, b] = x < y ? [x, y] : [y, x];
    const id = pairId(a, b);
    reservoirIn(this.pairTimes, id).add(ms);
    this.metrics?.convergence.observe({ region_a: a, region_b: b }, ms / 1000);
    const o: ConvergenceObservation = { key, regionA: a, regionB: b, ms, at: now };
    out.closed.push(o);
    for (const l of this.listeners) l(o);
  }

  private observeRegion(region: string, ms: number, now: number): void {
    reservoirIn(this.regionTimes, region).add(ms);
    for (const l of this.regionListeners) l(region, ms, now);
  }

  /** Age of the region's oldest key that still differs from the majority; 0 when it agrees everywhere. */
  regionLagMs(region: string, now: number): number {
    let oldest = now;
    for (const ep of this.episodes.values()) {
      const since = ep.behindSince.get(region);
      if (since !== undefined && since < oldest) oldest = since;
    }
    return now - oldest;
  }

  /** Keys divergent right now and how long each has been. */
  openEpisodes(now: number): Array<{ key: string; ageMs: number; behind: string[] }> {
    return [...this.episodes].map(([key, ep]) => ({
      key,
      ageMs: now - ep.openedAt,
      behind: [...ep.behindSince.keys()],
    }));
  }

  /** Convergence-time samples: per pair, per region (time a region was behind), and per key episode. */
  convergenceStats() {
    return {
      overall: this.allTimes.percentiles(),
      perPair: Object.fromEntries([...this.pairTimes].map(([id, r]) => [id, r.percentiles()])),
      perRegion: Object.fromEntries(
        this.regions.map((r) => [r, this.regionTimes.get(r)?.percentiles() ?? null]),
      ),
    };
  }
}

export function reservoirIn(map: Map<string, Reservoir>, key: string): Reservoir {
  const found = map.get(key);
  if (found) return found;
  const created = new Reservoir(5000);
  map.set(key, created);
  return created;
}

export function pairId(a: string, b: string): string {
  return a < b ? `${a}|${b}` : `${b}|${a}`;
}

/** The most frequent value; ties go to the first seen. */
function modeOf(values: readonly string[]): string {
  const counts = new Map<string, number>();
  let best = values[0]!;
  let bestCount = 0;
  for (const v of values) {
    const c = (counts.get(v) ?? 0) + 1;
    counts.set(v, c);
    if (c > bestCount) {
      best = v;
      bestCount = c;
    }
  }
  return best;
}
