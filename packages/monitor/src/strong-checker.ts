// Online check of strong (linearizable) data: sample a key, read the database version, then read the key
// through a region's cache. A cache version below a database version that was committed before the read
// started is stale — unless a write was still in flight (committed, not yet acknowledged). To rule that
// out, a suspicious read is repeated after `confirmDelayMs` (longer than any write takes to invalidate
// and acknowledge); only a read that is still behind the earlier-committed version is a violation.
import type { MonitorMetrics } from "./metrics.js";
import type { StrongProbe } from "./probes.js";
import type { Violation, ViolationLog } from "./violations.js";

export interface StrongCheckerOptions {
  /** (key, region) reads per tick. */
  samplesPerTick?: number;
  /** Wait before confirming a suspicious read. */
  confirmDelayMs?: number;
  random?: () => number;
}

export interface StrongCheckResult {
  checked: number;
  suspicious: number;
  violations: Violation[];
}

export class StrongReadChecker {
  private readonly samplesPerTick: number;
  private readonly confirmDelayMs: number;
  private readonly random: () => number;

  constructor(
    private readonly probe: StrongProbe,
    private readonly log: ViolationLog,
    private readonly metrics?: MonitorMetrics,
    options: StrongCheckerOptions = {},
  ) {
    this.samplesPerTick = options.samplesPerTick ?? 10;
    this.confirmDelayMs = options.confirmDelayMs ?? 250;
    this.random = options.random ?? Math.random;
  }

  /** Checks `samplesPerTick` random (key, region) pairs. */
  async checkOnce(): Promise<StrongCheckResult> {
    const keys = await this.probe.candidateKeys();
    const regions = this.probe.regions();
    const result: StrongCheckResult = { checked: 0, suspicious: 0, violations: [] };
    if (keys.length === 0 || regions.length === 0) return result;
    const picks = Array.from({ length: this.samplesPerTick }, () => ({
      key: keys[Math.floor(this.random() * keys.length)]!,
      region: regions[Math.floor(this.random() * regions.length)]!,
    }));
    const outcomes = await Promise.all(picks.map((p) => this.checkKey(p.key, p.region)));
    for (const o of outcomes) {
      result.checked++;
      if (o.suspicious) result.suspicious++;
      if (o.violation) result.violations.push(o.violation);
    }
    return result;
  }

  /** One sampled read of `key` in `region`; records a violation if it is confirmed stale. */
  async checkKey(key: string, region: string): Promise<{ suspicious: boolean; violation?: Violation }> {
    const dbBefore = await this.probe.readDbVersion(key);
    const first = await this.probe.readCacheVersion(key, region);
    this.log.countCheck("strong_read");
    this.metrics?.checks.inc({ kind: "strong_read" });
    if (!isBehind(first, dbBefore)) return { suspicious: false };

    await sleep(this.confirmDelayMs);
    const second = await this.probe.readCacheVersion(key, region);
    this.log.countCheck("strong_read");
    this.metrics?.checks.inc({ kind: "strong_read" });
    if (!isBehind(second, dbBefore)) return { suspicious: true };

    const violation: Violation = {
      kind: "stale_strong_read",
      at: Date.now(),
      key,
      region,
      message: `strong read of ${key} in ${region} returned version ${second ?? "none"} after version ${dbBefore} was committed`,
      details: { dbVersion: dbBefore, cacheVersion: second, firstReadVersion: first },
    };
    this.log.record(violation);
    this.metrics?.violations.inc({ kind: violation.kind });
    return { suspicious: true, violation };
  }
}

function isBehind(cacheVersion: number | null, dbVersion: number | null): boolean {
  // Null: the cache did not serve the key (a miss reads the database), so nothing stale was served.
  if (dbVersion === null || cacheVersion === null) return false;
  return cacheVersion < dbVersion;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
