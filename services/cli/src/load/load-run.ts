// One load run: the workload's operations sent open-loop to a target, increments booked in a ledger,
// errors counted by kind, the first few error messages kept for the summary.
import { CounterLedger } from "./counter-ledger.js";
import { LoadOperationError } from "./errors.js";
import { type OpenLoopResult, runOpenLoop, type SecondStats } from "./open-loop.js";
import type { LoadTarget } from "./targets.js";
import type { Workload } from "./workload.js";

export interface LoadRunOptions {
  target: LoadTarget;
  workload: Workload;
  ratePerSecond: number;
  durationMs: number;
  maxInFlight?: number;
  drainMs?: number;
  onSecond?(s: SecondStats): void;
}

export interface LoadRunResult extends OpenLoopResult {
  ledger: CounterLedger;
  /** Completed operations by `class:kind`. */
  byOp: Record<string, number>;
  /** Up to 5 distinct error messages. */
  sampleErrors: string[];
}

export async function runLoad(o: LoadRunOptions): Promise<LoadRunResult> {
  const ledger = new CounterLedger();
  const byOp: Record<string, number> = {};
  const sampleErrors = new Set<string>();
  const result = await runOpenLoop({
    ratePerSecond: o.ratePerSecond,
    durationMs: o.durationMs,
    ...(o.maxInFlight !== undefined ? { maxInFlight: o.maxInFlight } : {}),
    ...(o.drainMs !== undefined ? { drainMs: o.drainMs } : {}),
    ...(o.onSecond ? { onSecond: o.onSecond } : {}),
    async execute(i) {
      const op = o.workload.plan(i);
      try {
        await o.target.execute(op);
      } catch (err) {
        if (op.by !== undefined && !(err instanceof LoadOperationError && err.applied === false))
          ledger.doubt(op.key, op.by);
        if (sampleErrors.size < 5) sampleErrors.add((err as Error).message);
        throw err;
      }
      if (op.by !== undefined) ledger.acknowledge(op.key, op.by);
      const name = `${op.dataClass}:${op.kind}`;
      byOp[name] = (byOp[name] ?? 0) + 1;
    },
  });
  return { ...result, ledger, byOp, sampleErrors: [...sampleErrors] };
}
