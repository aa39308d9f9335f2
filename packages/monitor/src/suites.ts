// Consistency test suites runnable from code and from the CLI against any KeyValueTarget:
//  - race: a few clients hammer a few hot keys with reads and writes from different regions;
//  - stress: many clients over more keys for a fixed time;
// each records a history (invocation and response times per operation) and runs the linearizability
// checker over it; a non-linearizable key becomes a violation with its counterexample.
import {
  checkLinearizability,
  describeViolation,
  HistoryRecorder,
  type Json,
  type Operation,
} from "./linearizability/index.js";
import type { KeyValueTarget } from "./probes.js";
import { type Percentiles, percentiles } from "./stats.js";
import type { Violation } from "./violations.js";

export interface CheckOutcome {
  linearizable: boolean;
  /** Keys whose sub-history is not linearizable, with the checker's counterexample. */
  failures: Array<{ key: string; counterexample: unknown }>;
  /** Keys the checker gave up on within its budget (neither proven nor refuted). */
  unknown: string[];
}

export type HistoryChecker = (history: readonly Operation[]) => Promise<CheckOutcome> | CheckOutcome;

/** The linearizability checker (Wing & Gong / Lowe, per key) with a time budget, as a HistoryChecker. */
export function linearizabilityChecker(timeBudgetMs = 10_000): HistoryChecker {
  return (history) => {
    const result = checkLinearizability(history, { timeBudgetMs });
    const unknown = result.partitions.filter((p) => p.status === "unknown").flatMap((p) => p.keys);
    return {
      linearizable: result.status === "linearizable",
      failures: result.violation
        ? [{ key: result.violation.keys.join(","), counterexample: describeViolation(result.violation) }]
        : [],
      unknown,
    };
  };
}

export interface SuiteOptions {
  clients?: number;
  hotKeys?: number;
  opsPerClient?: number;
  stressDurationMs?: number;
  stressClients?: number;
  stressKeys?: number;
  keyPrefix?: string;
  /** Default: linearizabilityChecker(checkBudgetMs). */
  checker?: HistoryChecker;
  checkBudgetMs?: number;
  suites?: Array<"race" | "stress">;
  /** Receives each suite's recorded history (e.g. to save it for `meridian check`). */
  onHistory?: (suite: string, history: readonly Operation[]) => void;
}

export interface SuiteResult {
  name: string;
  operations: number;
  errors: number;
  durationMs: number;
  throughputOpsPerSec: number;
  latency: Percentiles;
  linearizable: boolean | null;
  unknownKeys: string[];
  violations: Violation[];
}

export interface SuiteReport {
  at: number;
  suites: SuiteResult[];
  operations: number;
  violations: Violation[];
  passed: boolean;
}

export async function runConsistencySuites(
  target: KeyValueTarget,
  o: SuiteOptions = {},
): Promise<SuiteReport> {
  const prefix = o.keyPrefix ?? `suite:${Date.now().toString(36)}:`;
  const which = o.suites ?? ["race", "stress"];
  const checker = o.checker ?? linearizabilityChecker(o.checkBudgetMs);
  const suites: SuiteResult[] = [];
  if (which.includes("race")) {
    suites.push(
      await runWorkload(target, {
        name: "race",
        clients: o.clients ?? 8,
        keys: Array.from({ length: o.hotKeys ?? 2 }, (_, i) => `${prefix}race:${i}`),
        stop: perClientBudget(o.opsPerClient ?? 40),
        checker,
        onHistory: o.onHistory,
      }),
    );
  }
  if (which.includes("stress")) {
    const until = Date.now() + (o.stressDurationMs ?? 3000);
    suites.push(
      await runWorkload(target, {
        name: "stress",
        clients: o.stressClients ?? 16,
        keys: Array.from({ length: o.stressKeys ?? 16 }, (_, i) => `${prefix}stress:${i}`),
        stop: () => Date.now() >= until,
        checker,
        onHistory: o.onHistory,
      }),
    );
  }
  const violations = suites.flatMap((s) => s.violations);
  return {
    at: Date.now(),
    suites,
    operations: suites.reduce((n, s) => n + s.operations, 0),
    violations,
    passed: violations.length === 0 && suites.every((s) => s.errors === 0),
  };
}

function perClientBudget(ops: number): (client: number, done: number) => boolean {
  return (_client, done) => done >= ops;
}

interface WorkloadSpec {
  clients: number;
  keys: string[];
  name: string;
  stop: (client: number, done: number) => boolean;
  checker: HistoryChecker;
  onHistory?: (suite: string, history: readonly Operation[]) => void;
}

async function runWorkload(target: KeyValueTarget, spec: WorkloadSpec): Promise<SuiteResult> {
  const regions = target.regions();
  const recorder = new HistoryRecorder();
  const latencies: number[] = [];
  let errors = 0;
  const started = Date.now();
  await Promise.all(
    Array.from({ length: spec.clients }, async (_, client) => {
      for (let done = 0; !spec.stop(client, done); done++) {
        const key = spec.keys[Math.floor(Math.random() * spec.keys.length)]!;
        const region = regions[(client + done) % regions.length]!;
        const name = `${region}/c${client}`;
        const t0 = performance.now();
        if (Math.random() < 0.5) {
          const value = `${spec.name}-c${client}-${done}`;
          const id = recorder.invoke(name, { type: "write", key, value });
          try {
            await target.write(key, value, region);
            recorder.ok(id, { type: "write" });
            latencies.push(performance.now() - t0);
          } catch {
            // The write may or may not have applied: it stays in the history as possibly applied.
            recorder.unknown(id);
            errors++;
          }
        } else {
          const id = recorder.invoke(name, { type: "read", key });
          try {
            const r = await target.read(key, region);
            recorder.ok(id, {
              type: "read",
              value: r.version === null ? undefined : ((r.value ?? null) as Json),
            });
            latencies.push(performance.now() - t0);
          } catch {
            recorder.unknown(id); // an unanswered read constrains nothing
            errors++;
          }
        }
      }
    }),
  );
  const history = recorder.history();
  spec.onHistory?.(spec.name, history);
  const durationMs = Date.now() - started;
  const outcome = await spec.checker(history);
  const violations: Violation[] = (outcome?.failures ?? []).map((f) => ({
    kind: "linearizability",
    at: Date.now(),
    key: f.key,
    message: `${spec.name} suite: history of ${f.key} is not linearizable`,
    details: { counterexample: f.counterexample },
  }));
  return {
    name: spec.name,
    operations: history.length,
    errors,
    durationMs,
    throughputOpsPerSec: history.length / Math.max(0.001, durationMs / 1000),
    latency: percentiles(latencies),
    // null: the checker ran out of budget on some key without finding a violation (undecided).
    linearizable:
      outcome.failures.length > 0 ? false : outcome.unknown.length > 0 ? null : outcome.linearizable,
    unknownKeys: outcome.unknown,
    violations,
  };
}
