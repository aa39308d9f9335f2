// ConsistencyMonitor: watches a running Meridian system through small probes and turns what it sees into
// metrics, violations, alerts, live snapshots and an end-of-run report. Its public methods are here:
// monitorConsistencyMetrics, detectConsistencyViolations, setupConsistencyAlerts, generateConsistencyReport,
// runConsistencyTests.
import type { Logger } from "pino";
import type { Registry } from "prom-client";
import {
  type AlertEvent,
  AlertManager,
  type AlertRule,
  type AlertSink,
  LogAlertSink,
  WebhookAlertSink,
} from "./alerts.js";
import { type DivergenceDetector, DivergenceTracker } from "./divergence.js";
import { LatticeDivergenceTracker } from "./lattice-divergence.js";
import { MonitorMetrics } from "./metrics.js";
import type {
  ConsumerLagSource,
  KeyDigests,
  KeyValueTarget,
  RegionDigestSource,
  StrongProbe,
} from "./probes.js";
import { buildReport, type ConsistencyReport, type TimelinePoint } from "./report.js";
import { type DefaultRuleOptions, defaultAlertRules } from "./rules.js";
import type { MonitorSnapshot } from "./snapshot.js";
import { type Percentiles, Reservoir, SlidingWindow } from "./stats.js";
import { type StrongCheckerOptions, StrongReadChecker } from "./strong-checker.js";
import { runConsistencySuites, type SuiteOptions, type SuiteReport } from "./suites.js";
import { type Violation, ViolationLog } from "./violations.js";

/** The system under watch, as the probes the monitor needs; every part is optional. */
export interface CacheSystem {
  regions: readonly string[];
  strong?: StrongProbe;
  eventual?: RegionDigestSource;
  consumerLag?: ConsumerLagSource;
  /** A key-value API for the race / stress suites. */
  kv?: KeyValueTarget;
}

export interface ConsistencyMonitorOptions {
  registry?: Registry;
  logger?: Logger;
  /** Tick interval of monitorConsistencyMetrics. */
  intervalMs?: number;
  /** Eventual data must agree across regions within this (the 5 s target). */
  convergenceWindowMs?: number;
  /** Window of the live percentiles and of "recent" violation counts used by alerts. */
  recentWindowMs?: number;
  violationRateTarget?: number;
  strong?: StrongCheckerOptions;
  rules?: DefaultRuleOptions;
  /** Timeline points kept for the report (older ones are thinned out). */
  maxTimelinePoints?: number;
}

export interface OperationRecord {
  region: string;
  dataClass: string;
  op: string;
  latencyMs: number;
  /** Age of the data a read returned, when known. */
  stalenessMs?: number;
}

export interface PropagationRecord {
  from: string;
  to: string;
  lagMs: number;
}

export class ConsistencyMonitor {
  readonly metrics: MonitorMetrics;
  readonly violations: ViolationLog;
  readonly divergence: DivergenceDetector;
  readonly startedAt = Date.now();
  alerts: AlertManager;

  private readonly strongChecker?: StrongReadChecker;
  private readonly intervalMs: number;
  private readonly recentWindowMs: number;
  private readonly regionRecent = new Map<string, SlidingWindow>();
  private readonly regionAll = new Map<string, Reservoir>();
  private readonly allRecent: SlidingWindow;
  private readonly allRun = new Reservoir(20_000);
  /** Propagation times per region pair (from recordPropagation), for the report's pair table. */
  private readonly pairRun = new Map<string, Reservoir>();
  private readonly latencies = new Map<string, Reservoir>();
  private readonly staleness = new Map<string, Reservoir>();
  private readonly lockWaits: SlidingWindow;
  private readonly opsSinceSnapshot = new Map<string, number>();
  private readonly timeline: TimelinePoint[] = [];
  private readonly maxTimelinePoints: number;
  private readonly listeners: Array<(s: MonitorSnapshot) => void> = [];
  private readonly suiteReports: SuiteReport[] = [];
  private consumerLag: Record<string, number> = {};
  private consumersStalled: string[] = [];
  private lastSnapshotAt = Date.now();
  private lastSnapshot?: MonitorSnapshot;
  /** When the regions' digests were last compared: region lag is as of then (see buildSnapshot). */
  private divergenceCheckedAt?: number;
  private timer?: NodeJS.Timeout;
  private strongInFlight = false;
  private ticking = false;

  constructor(
    readonly cacheSystem: CacheSystem,
    private readonly options: ConsistencyMonitorOptions = {},
  ) {
    this.metrics = new MonitorMetrics(options.registry);
    this.violations = new ViolationLog(options.violationRateTarget);
    this.intervalMs = options.intervalMs ?? 500;
    this.recentWindowMs = options.recentWindowMs ?? 60_000;
    this.maxTimelinePoints = options.maxTimelinePoints ?? 2000;
    this.allRecent = new SlidingWindow(this.recentWindowMs);
    this.lockWaits = new SlidingWindow(this.recentWindowMs);
    const windowMs = options.convergenceWindowMs ?? 5000;
    const lattice = cacheSystem.eventual?.lattice;
    this.divergence = lattice
      ? new LatticeDivergenceTracker(cacheSystem.regions, lattice, this.violations, this.metrics, windowMs)
      : new DivergenceTracker(cacheSystem.regions, this.violations, this.metrics, windowMs);
    this.divergence.onRegionCaughtUp((region, ms, at) => this.observeRegionConvergence(region, ms, at));
    if (cacheSystem.strong) {
      this.strongChecker = new StrongReadChecker(
        cacheSystem.strong,
        this.violations,
        this.metrics,
        options.strong,
      );
    }
    this.alerts = this.setupConsistencyAlerts();
  }

  // ---- public API -----------------------------------------------------------------------------------

  /** Starts periodic monitoring (every `intervalMs`); returns a function that stops it. */
  monitorConsistencyMetrics(): () => void {
    if (!this.timer) {
      this.timer = setInterval(() => void this.tick(), this.intervalMs);
      this.timer.unref?.();
    }
    return () => this.stop();
  }

  /** One detection pass: compares region digests and samples strong reads. Returns the new violations. */
  async detectConsistencyViolations(): Promise<Violation[]> {
    const found: Violation[] = [];
    const [strong, divergent] = await Promise.all([this.checkStrong(), this.checkDivergence()]);
    found.push(...strong, ...divergent);
    // Alerts are the loud signal; each violation is logged at info (there can be many).
    for (const v of found) this.options.logger?.info({ violation: v }, `consistency violation: ${v.message}`);
    return found;
  }

  /**
   * Installs alert rules and sinks: the default rules (thresholds/durations from options) plus any given,
   * a log sink when the monitor has a logger, and a webhook sink for `webhookUrl`.
   */
  setupConsistencyAlerts(
    config: { rules?: AlertRule[]; replaceRules?: boolean; sinks?: AlertSink[]; webhookUrl?: string } = {},
  ): AlertManager {
    const rules = config.replaceRules
      ? (config.rules ?? [])
      : [
          ...defaultAlertRules({ violationRateTarget: this.violations.target, ...this.options.rules }),
          ...(config.rules ?? []),
        ];
    const sinks: AlertSink[] = [...(config.sinks ?? [])];
    if (this.options.logger) sinks.push(new LogAlertSink(this.options.logger));
    if (config.webhookUrl) {
      const log = this.options.logger;
      sinks.push(
        new WebhookAlertSink(config.webhookUrl, 2000, (err) => log?.error({ err }, "alert webhook failed")),
      );
    }
    this.alerts = new AlertManager(rules, sinks);
    return this.alerts;
  }

  /** The report of everything seen since the monitor started (JSON-serialisable). */
  generateConsistencyReport(title = "Meridian consistency report"): ConsistencyReport {
    const now = Date.now();
    const snapshot = this.lastSnapshot ?? this.buildSnapshot(now);
    return buildReport({
      title,
      startedAt: this.startedAt,
      endedAt: now,
      regions: [...this.cacheSystem.regions],
      divergence: this.divergenceWithPairs(),
      regionConvergence: Object.fromEntries(
        this.cacheSystem.regions.map((r) => [r, this.regionAll.get(r)?.percentiles() ?? null]),
      ),
      overallConvergence: this.allRun.percentiles(),
      latency: Object.fromEntries([...this.latencies].map(([k, r]) => [k, r.percentiles()])),
      staleness: Object.fromEntries([...this.staleness].map(([k, r]) => [k, r.percentiles()])),
      violations: {
        total: this.violations.count,
        byKind: this.violations.kinds(),
        operations: this.violations.operations,
        checks: this.violations.checks(),
        rate: this.violations.rate(),
        target: this.violations.target,
        list: [...this.violations.list()],
      },
      alerts: [...this.alerts.events()],
      alertsFiring: snapshot.alertsFiring,
      timeline: [...this.timeline],
      suites: [...this.suiteReports],
    });
  }

  /** Race and stress suites plus the linearizability check of their histories, against `cacheSystem.kv`. */
  async runConsistencyTests(options: SuiteOptions = {}): Promise<SuiteReport> {
    if (!this.cacheSystem.kv) throw new Error("runConsistencyTests needs cacheSystem.kv (a KeyValueTarget)");
    const report = await runConsistencySuites(this.cacheSystem.kv, options);
    this.recordSuiteReport(report);
    return report;
  }

  /** One explicit strong check of `key` in `region`; the violation when the read was stale. */
  async strongCheck(key: string, region: string): Promise<Violation | undefined> {
    if (!this.strongChecker) throw new Error("strongCheck needs cacheSystem.strong (a StrongProbe)");
    return (await this.strongChecker.checkKey(key, region)).violation;
  }

  // ---- inputs from the running system -----------------------------------------------------------------

  recordOperation(r: OperationRecord): void {
    this.metrics.operations.inc({ region: r.region, class: r.dataClass, op: r.op });
    this.metrics.operationLatency.observe({ class: r.dataClass, op: r.op }, r.latencyMs / 1000);
    this.violations.countOperations(1);
    this.opsSinceSnapshot.set(r.region, (this.opsSinceSnapshot.get(r.region) ?? 0) + 1);
    reservoirFor(this.latencies, `${r.dataClass}.${r.op}`).add(r.latencyMs);
    if (r.stalenessMs !== undefined) {
      this.metrics.readStaleness.observe({ class: r.dataClass, region: r.region }, r.stalenessMs / 1000);
      reservoirFor(this.staleness, `${r.dataClass}.${r.region}`).add(r.stalenessMs);
    }
  }

  /** An update written in `from` became visible in `to` after `lagMs` (e.g. from the invalidation consumers). */
  recordPropagation(p: PropagationRecord, at = Date.now()): void {
    const [a, b] = p.from < p.to ? [p.from, p.to] : [p.to, p.from];
    this.metrics.convergence.observe({ region_a: a, region_b: b }, p.lagMs / 1000);
    reservoirFor(this.pairRun, `${a}|${b}`).add(p.lagMs);
    this.observeRegionConvergence(p.to, p.lagMs, at);
  }

  recordLockWait(namespace: string, ms: number): void {
    this.metrics.lockWait.observe({ namespace }, ms / 1000);
    this.lockWaits.add(ms, Date.now());
  }

  recordLockHold(namespace: string, ms: number): void {
    this.metrics.lockHold.observe({ namespace }, ms / 1000);
  }

  recordCoherenceMessage(type: string, count = 1): void {
    this.metrics.coherenceMessages.inc({ type }, count);
  }

  /** A violation found elsewhere (e.g. by a linearizability check of a recorded history). */
  recordViolation(v: Violation): void {
    this.violations.record(v);
    this.metrics.violations.inc({ kind: v.kind });
  }

  recordSuiteReport(report: SuiteReport): void {
    this.suiteReports.push(report);
    this.violations.countOperations(report.operations);
    for (const v of report.violations) this.recordViolation(v);
  }

  onSnapshot(listener: (s: MonitorSnapshot) => void): () => void {
    this.listeners.push(listener);
    return () => {
      const i = this.listeners.indexOf(listener);
      if (i >= 0) this.listeners.splice(i, 1);
    };
  }

  /** The latest snapshot (computed now if no tick ran yet). */
  snapshot(): MonitorSnapshot {
    return this.lastSnapshot ?? this.buildSnapshot(Date.now());
  }

  /** One monitoring step: detection, consumer lag, snapshot, alert evaluation, listeners. */
  async tick(): Promise<MonitorSnapshot | undefined> {
    if (this.ticking) return undefined;
    this.ticking = true;
    try {
      await this.detectConsistencyViolations();
      await this.readConsumerLag();
      const snapshot = this.buildSnapshot(Date.now());
      await this.alerts.evaluate(snapshot);
      snapshot.alertsFiring = this.alerts.firing();
      snapshot.recentAlerts = this.alerts.events().slice(-20);
      for (const rule of this.alerts.rules) {
        this.metrics.alertsFiring.set(
          { alert: rule.name },
          snapshot.alertsFiring.some((a) => a.rule === rule.name) ? 1 : 0,
        );
      }
      this.lastSnapshot = snapshot;
      this.pushTimeline(snapshot);
      for (const l of this.listeners) l(snapshot);
      return snapshot;
    } catch (err) {
      this.options.logger?.error({ err }, "monitor tick failed");
      return undefined;
    } finally {
      this.ticking = false;
    }
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Stops monitoring and waits for a tick in progress, so probes' clients can be closed after. */
  async close(): Promise<void> {
    this.stop();
    while (this.ticking || this.strongInFlight) await new Promise((r) => setTimeout(r, 10));
  }

  firingAlerts(): AlertEvent[] {
    return this.alerts.firing();
  }

  // ---- internals --------------------------------------------------------------------------------------

  /** The tracker's figures, with per-pair propagation times where the tracker has none for a pair. */
  private divergenceWithPairs() {
    const stats = this.divergence.convergenceStats();
    const perPair = { ...stats.perPair };
    for (const [id, r] of this.pairRun) perPair[id] ??= r.percentiles();
    return { ...stats, perPair };
  }

  private async checkStrong(): Promise<Violation[]> {
    // One batch at a time: a suspicious read waits confirmDelayMs before its confirmation read.
    if (!this.strongChecker || this.strongInFlight) return [];
    this.strongInFlight = true;
    try {
      return (await this.strongChecker.checkOnce()).violations;
    } catch (err) {
      this.options.logger?.error({ err }, "strong sampling failed");
      return [];
    } finally {
      this.strongInFlight = false;
    }
  }

  private async checkDivergence(): Promise<Violation[]> {
    const source = this.cacheSystem.eventual;
    if (!source) return [];
    const regions = source.regions();
    const snaps = await Promise.all(regions.map((r) => source.snapshot(r)));
    const now = Date.now();
    const byRegion = new Map<string, KeyDigests>(regions.map((r, i) => [r, snaps[i]!]));
    const violations = this.divergence.tick(byRegion, now).violations;
    this.divergenceCheckedAt = now;
    return violations;
  }

  private async readConsumerLag(): Promise<void> {
    const source = this.cacheSystem.consumerLag;
    if (!source) return;
    try {
      const lags = await source.lag();
      const next: Record<string, number> = {};
      for (const l of lags) {
        next[l.region] = (next[l.region] ?? 0) + l.lag;
        this.metrics.consumerLag.set({ region: l.region, group: l.group }, l.lag);
      }
      this.consumerLag = next;
      this.consumersStalled = [...new Set(lags.filter((l) => l.stalled).map((l) => l.region))].sort();
    } catch (err) {
      this.options.logger?.error({ err }, "reading consumer lag failed");
    }
  }

  private observeRegionConvergence(region: string, ms: number, at: number): void {
    let w = this.regionRecent.get(region);
    if (!w) {
      w = new SlidingWindow(this.recentWindowMs, 5000);
      this.regionRecent.set(region, w);
    }
    w.add(ms, at);
    reservoirFor(this.regionAll, region).add(ms);
    this.allRun.add(ms);
    this.allRecent.add(ms, at);
  }

  private buildSnapshot(now: number): MonitorSnapshot {
    const regions = [...this.cacheSystem.regions];
    const elapsedS = Math.max(0.001, (now - this.lastSnapshotAt) / 1000);
    this.lastSnapshotAt = now;
    const opsPerSec: Record<string, number> = {};
    for (const r of regions) opsPerSec[r] = (this.opsSinceSnapshot.get(r) ?? 0) / elapsedS;
    this.opsSinceSnapshot.clear();
    // Lag is what the last digest comparison saw, not extrapolated to `now`: measured at a later clock, data
    // first seen at that comparison (still on the WAN to far regions, normal under continuous writes) would
    // read as a few ms of lag that never returns to 0 while writes continue.
    const lagAt = Math.min(now, this.divergenceCheckedAt ?? now);
    const recentByKind: Record<string, number> = {};
    for (const v of this.violations.list()) {
      if (now - v.at <= this.recentWindowMs) recentByKind[v.kind] = (recentByKind[v.kind] ?? 0) + 1;
    }
    this.metrics.violationRate.set(this.violations.rate());
    const regionConvergence: Record<string, Percentiles> = {};
    for (const r of regions) {
      regionConvergence[r] =
        this.regionRecent.get(r)?.percentiles(now) ?? new SlidingWindow(1).percentiles(now);
    }
    return {
      at: now,
      startedAt: this.startedAt,
      regions,
      regionLagMs: Object.fromEntries(regions.map((r) => [r, this.divergence.regionLagMs(r, lagAt)])),
      regionConvergence,
      convergence: this.allRecent.percentiles(now),
      opsPerSec,
      divergentKeys: this.divergence.openEpisodes(now).length,
      violations: {
        total: this.violations.count,
        byKind: this.violations.kinds(),
        recentByKind,
        operations: this.violations.operations,
        rate: this.violations.rate(),
        target: this.violations.target,
        latest: this.violations.list().slice(-20),
      },
      consumerLag: { ...this.consumerLag },
      consumersStalled: [...this.consumersStalled],
      lockWaitP99Ms: this.lockWaits.percentiles(now).p99,
      alertsFiring: this.alerts.firing(),
      recentAlerts: this.alerts.events().slice(-20),
    };
  }

  private pushTimeline(s: MonitorSnapshot): void {
    this.timeline.push({
      t: s.at,
      regionLagMs: s.regionLagMs,
      regionConvergenceP99Ms: Object.fromEntries(
        Object.entries(s.regionConvergence).map(([r, p]) => [r, p.p99]),
      ),
      opsPerSec: s.opsPerSec,
      violations: s.violations.total,
      alertsFiring: s.alertsFiring.length,
    });
    // Thin out evenly rather than dropping the start of the run.
    if (this.timeline.length > this.maxTimelinePoints) {
      const thinned = this.timeline.filter((_, i) => i % 2 === 0);
      this.timeline.splice(0, this.timeline.length, ...thinned);
    }
  }
}

function reservoirFor(map: Map<string, Reservoir>, key: string): Reservoir {
  const found = map.get(key);
  if (found) return found;
  const created = new Reservoir(10_000);
  map.set(key, created);
  return created;
}
