// Divergence tracking for CRDT data, where every region's state is ordered by the CRDT's lattice: the
// state all regions converge to is the join (merge) of their states. Each tick:
//  - the join of the regions' states is computed; each new join is remembered with the time it was first
//    seen (a short history per key);
//  - a region whose state is not the join is behind; it is missing data since the first remembered join its
//    state does not include — its lag is counted from then, so a region that keeps up with a key written
//    continuously has a small lag even though the regions are rarely all equal at one instant;
//  - when a region comes to hold the oldest data it was missing, the time since that data was first seen
//    is one convergence observation for the region (the regions that had it first are its source and
//    never miss it, so they are not counted);
//  - a region missing data for longer than the window is a violation, once per episode (until the region
//    holds the join again).
// Resolution is the tick interval, as for the digest-majority tracker.
import type { ConvergenceObservation, DivergenceDetector, DivergenceTickResult } from "./divergence.js";
import { reservoirIn } from "./divergence.js";
import type { MonitorMetrics } from "./metrics.js";
import type { KeyDigests, StateLattice } from "./probes.js";
import { Reservoir } from "./stats.js";
import type { Violation, ViolationLog } from "./violations.js";

const HISTORY = 64;

interface KeyState {
  joins: Array<{ digest: string; at: number }>;
  /** Per region: when the data it misses was first seen (absent: the region holds the join). */
  missingSince: Map<string, number>;
  flagged: Map<string, number>;
}

export class LatticeDivergenceTracker implements DivergenceDetector {
  private readonly keys = new Map<string, KeyState>();
  private readonly regionTimes = new Map<string, Reservoir>();
  private readonly allTimes = new Reservoir();
  private readonly listeners: Array<(region: string, ms: number, at: number) => void> = [];

  constructor(
    private readonly regions: readonly string[],
    private readonly lattice: StateLattice,
    private readonly log: ViolationLog,
    private readonly metrics?: MonitorMetrics,
    readonly windowMs = 5000,
  ) {}

  onRegionCaughtUp(listener: (region: string, ms: number, at: number) => void): void {
    this.listeners.push(listener);
  }

  tick(snapshots: ReadonlyMap<string, KeyDigests>, now: number): DivergenceTickResult {
    const names = new Set<string>(this.keys.keys());
    for (const snap of snapshots.values()) for (const k of snap.keys()) names.add(k);
    const out: DivergenceTickResult = {
      keysCompared: names.size,
      divergentKeys: 0,
      closed: [],
      violations: [],
    };
    for (const key of names) {
      const digests = this.regions.map((r) => snapshots.get(r)?.get(key));
      if (this.compareKey(key, digests, now, out)) out.divergentKeys++;
    }
    this.log.countCheck("divergence", names.size);
    this.metrics?.checks.inc({ kind: "divergence" }, names.size);
    for (const r of this.regions) this.metrics?.regionLag.set({ region: r }, this.regionLagMs(r, now) / 1000);
    return out;
  }

  private compareKey(
    key: string,
    digests: Array<string | undefined>,
    now: number,
    out: DivergenceTickResult,
  ) {
    const present = digests.filter((d): d is string => d !== undefined);
    if (present.length === 0) return false;
    let st = this.keys.get(key);
    if (!st) {
      st = { joins: [], missingSince: new Map(), flagged: new Map() };
      this.keys.set(key, st);
    }
    let join: string;
    try {
      join = present.length === 1 ? present[0]! : this.lattice.join(present);
    } catch {
      return false; // undecodable state: nothing to compare (the consumer's dead-letter path reports it)
    }
    const last = st.joins[st.joins.length - 1];
    if (!last || last.digest !== join) {
      st.joins.push({ digest: join, at: now });
      if (st.joins.length > HISTORY) st.joins.shift();
    }
    let divergent = false;
    this.regions.forEach((region, i) => {
      const d = digests[i];
      const included = d === undefined ? -1 : this.newestIncluded(st, d);
      // It now holds the oldest data it was missing: that data took `now - since` to arrive here.
      const wasMissing = st.missingSince.get(region);
      if (wasMissing !== undefined && included >= 0 && st.joins[included]!.at >= wasMissing) {
        this.observe(region, now - wasMissing, now);
      }
      if (included === st.joins.length - 1) {
        st.missingSince.delete(region);
        st.flagged.delete(region);
        return;
      }
      divergent = true;
      const since = st.joins[included + 1]?.at ?? st.joins[0]!.at;
      st.missingSince.set(region, since);
      // One violation per episode: until the region holds the join again, however its lag moves.
      if (now - since > this.windowMs && !st.flagged.has(region)) {
        st.flagged.set(region, since);
        const v: Violation = {
          kind: "convergence_window_exceeded",
          at: now,
          key,
          region,
          message: `${region} has been missing an update of ${key} for ${now - since} ms`,
          details: { missingForMs: now - since, windowMs: this.windowMs },
        };
        this.log.record(v);
        this.metrics?.violations.inc({ kind: v.kind });
        out.violations.push(v);
      }
    });
    if (!divergent) {
      // Everyone holds the join: only it needs remembering.
      st.joins.splice(0, st.joins.length - 1);
    }
    return divergent;
  }

  /** Index of the newest remembered join that `digest`'s state includes, or -1. */
  private newestIncluded(st: KeyState, digest: string): number {
    for (let i = st.joins.length - 1; i >= 0; i--) {
      const j = st.joins[i]!.digest;
      if (j === digest) return i;
      try {
        if (this.lattice.leq(j, digest)) return i;
      } catch {
        return -1;
      }
    }
    return -1;
  }

  private observe(region: string, ms: number, now: number): void {
    reservoirIn(this.regionTimes, region).add(ms);
    this.allTimes.add(ms);
    for (const l of this.listeners) l(region, ms, now);
  }

  regionLagMs(region: string, now: number): number {
    let oldest = now;
    for (const st of this.keys.values()) {
      const since = st.missingSince.get(region);
      if (since !== undefined && since < oldest) oldest = since;
    }
    return now - oldest;
  }

  openEpisodes(now: number): Array<{ key: string; ageMs: number; behind: string[] }> {
    const out: Array<{ key: string; ageMs: number; behind: string[] }> = [];
    for (const [key, st] of this.keys) {
      if (st.missingSince.size === 0) continue;
      out.push({
        key,
        ageMs: now - Math.min(...st.missingSince.values()),
        behind: [...st.missingSince.keys()],
      });
    }
    return out;
  }

  convergenceStats() {
    return {
      overall: this.allTimes.percentiles(),
      perPair: {},
      perRegion: Object.fromEntries(
        this.regions.map((r) => [r, this.regionTimes.get(r)?.percentiles() ?? null]),
      ),
    };
  }
}

export type { ConvergenceObservation };
