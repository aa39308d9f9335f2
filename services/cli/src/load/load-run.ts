// One load run: the workload's operations sent open-loop to a target, increments booked in a ledger,
// errors counted by kind, the first few error messages kept for the summary.
import { CounterLedger } from "./counter-ledger.js";
import { LoadOperationError } from "./errors.js";
import { type OpenLoopResult, runOpenLoop, type SecondStats } from "./open-loop.js";
import type { LoadTarget, ReadAnswer } from "./targets.js";
import type { PlannedOp, Workload } from "./workload.js";

export interface LoadRunOptions {
  target: LoadTarget;
  workload: Workload;
  ratePerSecond: number;
  durationMs: number;
  maxInFlight?: number;
  /** The rate climbs from 0 over this many ms (see OpenLoopOptions). */
  rampMs?: number;
  /** Drop an operation still unsent this long after its due time (see OpenLoopOptions). */
  shedAfterMs?: number;
  drainMs?: number;
  signal?: AbortSignal;
  onSecond?(s: SecondStats): void;
  /** Each acknowledged operation, with its service time (sent → answered) and a read's answer. */
  onAcknowledged?(op: PlannedOp, serviceMs: number, answer: ReadAnswer | undefined): void;
}

export interface LoadRunResult extends OpenLoopResult {
  ledger: CounterLedger;
  /** Completed operations by `class:kind`. */
  byOp: Record<string, number>;
  /** `important` keys (the replicated ones) with at least one acknowledged write. */
  writtenKeys: Set<string>;
  /** Up to 5 distinct error messages. */
  sampleErrors: string[];
}

export async function runLoad(o: LoadRunOptions): Promise<LoadRunResult> {
  const ledger = new CounterLedger();
  const byOp: Record<string, number> = {};
  const sampleErrors = new Set<string>();
  const writtenKeys = new Set<string>();
  const result = await runOpenLoop({
    ratePerSecond: o.ratePerSecond,
    durationMs: o.durationMs,
    ...(o.maxInFlight !== undefined ? { maxInFlight: o.maxInFlight } : {}),
    ...(o.rampMs !== undefined ? { rampMs: o.rampMs } : {}),
    ...(o.shedAfterMs !== undefined ? { shedAfterMs: o.shedAfterMs } : {}),
    ...(o.drainMs !== undefined ? { drainMs: o.drainMs } : {}),
    ...(o.onSecond ? { onSecond: o.onSecond } : {}),
    ...(o.signal ? { signal: o.signal } : {}),
    async execute(i) {
      const op = o.workload.plan(i);
      const sentAt = performance.now();
      let answer: ReadAnswer | undefined;
      try {
        answer = await o.target.execute(op);
      } catch (err) {
        if (op.by !== undefined && !(err instanceof LoadOperationError && err.applied === false))
          ledger.doubt(op.key, op.by);
        if (sampleErrors.size < 5) sampleErrors.add((err as Error).message);
        throw err;
      }
      if (op.by !== undefined) ledger.acknowledge(op.key, op.by);
      if (op.kind !== "get" && op.dataClass === "important") writtenKeys.add(op.key);
      const name = `${op.dataClass}:${op.kind}`;
      byOp[name] = (byOp[name] ?? 0) + 1;
      o.onAcknowledged?.(op, performance.now() - sentAt, answer);
    },
  });
  return { ...result, ledger, byOp, writtenKeys, sampleErrors: [...sampleErrors] };
}
