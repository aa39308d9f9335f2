// One eventual nemesis scenario: load in every region, a fault injected and healed during it, a little
// load after the heal, then convergence timed from the heal (or the last acknowledged write after it)
// and every region's counters and sets checked against what was acknowledged. The row goes to FAULTS.md
// before the caller asserts, so a failing scenario still shows its figures.
import { summarize } from "@meridian/invalidation-consumer";
import { expect } from "vitest";
import { sleep } from "../../support/pipeline.js";
import { EventualLoad, type LoadKeys, type RegionWriter } from "./eventual-load.js";
import type { FaultCluster } from "./fault-cluster.js";
import { recordFaultRow } from "./faults-report.js";

export const CONVERGENCE_BOUND_MS = 5000;
/** Every region must take writes again this soon after the heal (same bound as convergence). */
export const RECOVERY_BOUND_MS = 5000;

export interface EventualFaultOptions {
  order: number;
  id: string;
  scenario: string;
  keys: LoadKeys;
  /** Injects the fault and heals it; resolves with the time of the heal (Date.now()). */
  fault: (load: EventualLoad) => Promise<number>;
  writers?: readonly string[];
  customWriters?: Record<string, RegionWriter>;
  /**
   * The fault does not touch the write path (a link, a consumer, a clock): every write must get a
   * definite answer, so the counters are checked exactly against the acknowledged increments.
   */
  exact?: boolean;
  /** Further acknowledged writes to check after the load (their losses count in `lost`). */
  verifyExtra?: () => Promise<{ lost: number; problems: string[] }>;
  faultAfterMs?: number;
  /** Load kept up once every region took a write after the heal (default 500 ms). */
  loadAfterHealMs?: number;
}

export interface EventualFaultResult {
  load: EventualLoad;
  lost: number;
  excess: number;
  /** Everything that broke: regions that took no write after the heal, lost or surplus counts. */
  problems: string[];
  convergence: { p50Ms: number; maxMs: number } | undefined;
  convergenceError: string | undefined;
}

export async function runEventualFault(
  cluster: FaultCluster,
  o: EventualFaultOptions,
): Promise<EventualFaultResult> {
  const startedAt = Date.now();
  const load = new EventualLoad(cluster, o.keys, o.writers, o.customWriters);
  load.start();
  let healedAt: number;
  let recovery = new Map<string, number>();
  try {
    await sleep(o.faultAfterMs ?? 1000);
    healedAt = await o.fault(load);
    recovery = await load.probeRecovery(healedAt, RECOVERY_BOUND_MS);
    await sleep(o.loadAfterHealMs ?? 500);
  } finally {
    await load.stop();
  }
  let convergence: EventualFaultResult["convergence"];
  let convergenceError: string | undefined;
  try {
    const perKey = await load.convergence(Math.max(healedAt, load.lastAckMs));
    const s = summarize([...perKey.values()]);
    convergence = { p50Ms: s.p50Ms, maxMs: s.maxMs };
  } catch (err) {
    convergenceError = String(err);
  }
  const verified = await load.verify();
  const extra = (await o.verifyExtra?.()) ?? { lost: 0, problems: [] };
  const lost = verified.lost + extra.lost;
  const { excess } = verified;
  // After the heal every region must take writes again, on its own.
  const silent = (o.writers ?? cluster.layout.regions).filter(
    (r) => !((recovery.get(r) ?? Number.POSITIVE_INFINITY) <= RECOVERY_BOUND_MS),
  );
  const recoveryMs = Math.max(0, ...recovery.values());
  const problems = [
    ...(o.exact && load.unknown > 0 ? [`${load.unknown} writes without a definite answer`] : []),
    ...silent.map(
      (r) =>
        `${r} acknowledged no new write within ${RECOVERY_BOUND_MS} ms of the heal (${recovery.has(r) ? `first after ${recovery.get(r)} ms` : "none"})`,
    ),
    ...verified.problems,
    ...extra.problems,
  ];
  const converged = convergence !== undefined && convergence.maxMs <= CONVERGENCE_BOUND_MS;
  const passed = converged && problems.length === 0;
  const counted =
    load.unknown === 0 ? "counters exact" : `counters within [acked, acked+${load.unknown} unknown]`;
  recordFaultRow({
    order: o.order,
    id: o.id,
    scenario: o.scenario,
    ops: load.ops,
    acknowledgedWrites: load.acknowledged,
    lost,
    linearizable: "—",
    ...(convergence ? { convergenceP50Ms: convergence.p50Ms, convergenceMaxMs: convergence.maxMs } : {}),
    seconds: (Date.now() - startedAt) / 1000,
    passed,
    note: passed
      ? `${counted}; ${load.refused} refused; every region took a new write ${recoveryMs} ms after the heal`
      : [convergenceError ?? (converged ? "" : "converged too slowly"), ...problems.slice(0, 3)]
          .filter(Boolean)
          .join("; "),
  });
  return { load, lost, excess, problems, convergence, convergenceError };
}

/** The assertions every eventual scenario makes. */
export function expectEventualGuarantees(r: EventualFaultResult): void {
  expect(r.load.acknowledged).toBeGreaterThan(0);
  expect(r.convergenceError).toBeUndefined();
  expect(r.convergence!.maxMs).toBeLessThanOrEqual(CONVERGENCE_BOUND_MS);
  expect(r.problems).toEqual([]);
  expect(r.lost).toBe(0);
  expect(r.excess).toBe(0);
}
