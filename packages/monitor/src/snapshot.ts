// What the monitor knows at one instant: the input of alert rules, the dashboard's live feed and a point
// of the report's timelines.
import type { AlertEvent } from "./alerts.js";
import type { Percentiles } from "./stats.js";
import type { Violation } from "./violations.js";

export interface MonitorSnapshot {
  at: number;
  startedAt: number;
  regions: string[];
  /** Per region: age of its oldest key still behind the majority (0 = in agreement). */
  regionLagMs: Record<string, number>;
  /** Per region: convergence time (propagation or divergence closing) over the recent window. */
  regionConvergence: Record<string, Percentiles>;
  /** Convergence times over the recent window, all pairs. */
  convergence: Percentiles;
  /** Operations per second per region since the previous snapshot. */
  opsPerSec: Record<string, number>;
  divergentKeys: number;
  violations: {
    total: number;
    byKind: Record<string, number>;
    /** Per kind, violations within the recent alert window. */
    recentByKind: Record<string, number>;
    operations: number;
    rate: number;
    target: number;
    latest: Violation[];
  };
  consumerLag: Record<string, number>;
  /** Regions whose consumer reported it cannot make progress (down, restarting, or blocked). */
  consumersStalled: string[];
  lockWaitP99Ms: number;
  alertsFiring: AlertEvent[];
  /** The latest alert transitions (firing and resolved), oldest first. */
  recentAlerts: AlertEvent[];
}
