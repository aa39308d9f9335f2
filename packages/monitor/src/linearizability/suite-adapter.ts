// Adapter for the monitor's race / stress suites, whose histories are single-key reads and writes
// ({ client, key, op, value, call, ret }): checks them with this checker and reports per key.
import { checkLinearizability, describeViolation } from "./check.js";
import type { Json, Operation } from "./history.js";
import { partitionByKeys } from "./partition.js";

export interface SimpleHistoryOp {
  client: number | string;
  key: string;
  op: "read" | "write";
  value: unknown;
  call: number;
  ret: number;
}

export interface SimpleCheckOutcome {
  linearizable: boolean;
  failures: Array<{ key: string; counterexample: unknown }>;
  unknown: string[];
}

/** A checker for read/write histories; `initial` is the value of every key before the history. */
export function simpleHistoryChecker(
  options: { timeBudgetMs?: number; initial?: Record<string, Json> } = {},
) {
  return (history: readonly SimpleHistoryOp[]): SimpleCheckOutcome => {
    const ops: Operation[] = history.map((h, id) => ({
      id,
      client: String(h.client),
      input:
        h.op === "read"
          ? { type: "read", key: h.key }
          : { type: "write", key: h.key, value: (h.value ?? null) as Json },
      output: h.op === "read" ? { type: "read", value: h.value as Json | undefined } : { type: "write" },
      call: h.call,
      ret: h.ret,
    }));
    const failures: SimpleCheckOutcome["failures"] = [];
    const unknown: string[] = [];
    // One key at a time, so a violation on one key does not hide the verdict on the others.
    for (const part of partitionByKeys(ops)) {
      const res = checkLinearizability(part.ops, {
        ...(options.initial ? { initial: options.initial } : {}),
        ...(options.timeBudgetMs !== undefined ? { timeBudgetMs: options.timeBudgetMs } : {}),
      });
      const key = part.keys[0]!;
      if (res.status === "unknown") unknown.push(key);
      if (res.violation) {
        failures.push({
          key,
          counterexample: {
            text: describeViolation(res.violation),
            prefix: res.violation.prefix,
            failingOperation: res.violation.failingOperation,
          },
        });
      }
    }
    return { linearizable: failures.length === 0 && unknown.length === 0, failures, unknown };
  };
}
