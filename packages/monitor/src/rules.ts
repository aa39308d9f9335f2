// The default alert rules (the same conditions as infra/prometheus/meridian-alerts.yml, for users who
// scrape /metrics with their own Prometheus). Thresholds and durations are options.
import type { AlertRule } from "./alerts.js";
import { DEFAULT_VIOLATION_RATE_TARGET } from "./violations.js";

export interface DefaultRuleOptions {
  convergenceP99Ms?: number;
  convergenceForMs?: number;
  regionLagMs?: number;
  regionLagForMs?: number;
  strongViolationForMs?: number;
  consumerLagMessages?: number;
  consumerLagForMs?: number;
  lockWaitP99Ms?: number;
  lockWaitForMs?: number;
  violationRateForMs?: number;
  violationRateTarget?: number;
}

const STRONG_KINDS = ["stale_strong_read", "linearizability", "lost_update"];

export function defaultAlertRules(o: DefaultRuleOptions = {}): AlertRule[] {
  return [
    {
      name: "MeridianConvergenceP99High",
      severity: "warning",
      description: "p99 cross-region convergence time is above the 5 s target",
      threshold: o.convergenceP99Ms ?? 5000,
      forMs: o.convergenceForMs ?? 30_000,
      measure: (s) => [{ labels: {}, value: s.convergence.p99 }],
    },
    {
      name: "MeridianRegionStalled",
      severity: "critical",
      description: "a region has been behind the others on some key for longer than the convergence target",
      threshold: o.regionLagMs ?? 5000,
      forMs: o.regionLagForMs ?? 10_000,
      measure: (s) => s.regions.map((r) => ({ labels: { region: r }, value: s.regionLagMs[r] ?? 0 })),
    },
    {
      name: "MeridianStrongConsistencyViolation",
      severity: "critical",
      description: "a strong (linearizable) read returned stale data",
      threshold: 0,
      forMs: o.strongViolationForMs ?? 0,
      measure: (s) => [
        { labels: {}, value: STRONG_KINDS.reduce((n, k) => n + (s.violations.recentByKind[k] ?? 0), 0) },
      ],
    },
    {
      name: "MeridianConsumerLagHigh",
      severity: "warning",
      description: "a region's invalidation consumer is far behind its topic",
      threshold: o.consumerLagMessages ?? 1000,
      forMs: o.consumerLagForMs ?? 30_000,
      measure: (s) =>
        Object.entries(s.consumerLag).map(([region, lag]) => ({ labels: { region }, value: lag })),
    },
    {
      name: "MeridianLockWaitHigh",
      severity: "warning",
      description: "p99 distributed-lock wait is above 1 s",
      threshold: o.lockWaitP99Ms ?? 1000,
      forMs: o.lockWaitForMs ?? 30_000,
      measure: (s) => [{ labels: {}, value: s.lockWaitP99Ms }],
    },
    {
      name: "MeridianViolationRateAboveTarget",
      severity: "critical",
      description: "consistency violations exceed 0.001 % of operations",
      threshold: o.violationRateTarget ?? DEFAULT_VIOLATION_RATE_TARGET,
      forMs: o.violationRateForMs ?? 60_000,
      measure: (s) => [{ labels: {}, value: s.violations.rate }],
    },
  ];
}
