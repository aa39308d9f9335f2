// Consistency test suites runnable from code and from the CLI against any KeyValueTarget:
//  - race: a few clients hammer a few hot keys with reads and writes from different regions;
//  - stress: many clients over more keys for a fixed time;
// each records a history (invocation and response times per operation) and runs the linearizability
// checker over it; a non-linearizable key becomes a violation with its counterexample.
import type { KeyValueTarget } from "./probes.js";
import { type Percentiles, percentiles } from "./stats.js";
import type { Violation } from "./violations.js";

/** One completed operation of a recorded history (times in ms, from one clock). */
export interface HistoryOp {
  client: number;
  key: string;
  op: "read" | "write";
  /** Written value, or value the read returned. */
  value: unknown;
  call: number;
  ret: number;
}

export interface CheckOutcome {
  linearizable: boolean;
  /** Keys whose sub-history is not linearizable, with the checker's counterexample. */
  failures: Array<{ key: string; counterexample: unknown }>;
  /** Keys the checker gave up on within its budget (neither proven nor refuted). */
  unknown: string[];
}

export type HistoryChecker = (history: readonly HistoryOp[]) => Promise<CheckOutcome> | CheckOutcome;

export interface SuiteOptions {
  clients?: number;
  hotKeys?: number;
  opsPerClient?: number;
  stressDurationMs?: number;
  stressClients?: number;
  stressKeys?: number;
  keyPrefix?: string;
  checker?: HistoryChecker;
  suites?: Array<"race" | "stress">;
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
  const suites: SuiteResult[] = [];
  if (which.includes("race")) {
    suites.push(
      await runWorkload("race", target, {
        clients: o.clients ?? 8,
        keys: Array.from({ length: o.hotKeys ?? 2 }, (_, i) => `${prefix}race:${i}`),
        stop: perClientBudget(o.opsPerClient ?? 40),
        checker: o.checker,
      }),
    );
  }
  if (which.includes("stress")) {
    const until = Date.now() + (o.stressDurationMs ?? 3000);
    suites.push(
      await runWorkload("stress", target, {
        clients: o.stressClients ?? 16,
        keys: Array.from({ length: o.stressKeys ?? 16 }, (_, i) => `${prefix}stress:${i}`),
        stop: () => Date.now() >= until,
        checker: o.checker,
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
  stop: (client: number, done: number) => boolean;
  checker?: HistoryChecker;
}

async function runWorkload(name: string, target: KeyValueTarget, spec: WorkloadSpec): Promise<SuiteResult> {
  const regions = target.regions();
  const history: HistoryOp[] = [];
  const latencies: number[] = [];
  let errors = 0;
  const started = Date.now();
  await Promise.all(
    Array.from({ length: spec.clients }, async (_, client) => {
      for (let done = 0; !spec.stop(client, done); done++) {
        const key = spec.keys[Math.floor(Math.random() * spec.keys.length)]!;
        const region = regions[(client + done) % regions.length]!;
        const isWrite = Math.random() < 0.5;
        const call = performance.now();
        try {
          if (isWrite) {
            const value = `${name}-c${client}-${done}`;
            await target.write(key, value, region);
            history.push({ client, key, op: "write", value, call, ret: performance.now() });
          } else {
            const r = await target.read(key, region);
            history.push({ client, key, op: "read", value: r.value ?? null, call, ret: performance.now() });
          }
          latencies.push(performance.now() - call);
        } catch {
          // A failed op may or may not have taken effect; it is left out of the history, so a write that
          // did apply can only make the checker stricter (a read of its value looks unexplained).
          errors++;
        }
      }
    }),
  );
  const durationMs = Date.now() - started;
  const outcome = spec.checker ? await spec.checker(history) : null;
  const violations: Violation[] = (outcome?.failures ?? []).map((f) => ({
    kind: "linearizability",
    at: Date.now(),
    key: f.key,
    message: `${name} suite: history of ${f.key} is not linearizable`,
    details: { counterexample: f.counterexample },
  }));
  return {
    name,
    operations: history.length,
    errors,
    durationMs,
    throughputOpsPerSec: history.length / Math.max(0.001, durationMs / 1000),
    latency: percentiles(latencies),
    linearizable: outcome ? outcome.linearizable : null,
    unknownKeys: outcome?.unknown ?? [],
    violations,
  };
}
