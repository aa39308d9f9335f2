// checkLinearizability: partition per key (transactions join their keys), run the Wing & Gong / Lowe search
// per partition, and for a violation shrink it to the smallest failing prefix.
import type { Json, Operation } from "./history.js";
import { KvModel } from "./kv-model.js";
import { partitionByKeys } from "./partition.js";
import { searchLinearization } from "./wing-gong.js";

export type CheckStatus = "linearizable" | "not-linearizable" | "unknown";

export interface CheckOptions {
  /** Initial value per key (default: every key absent). */
  initial?: Record<string, Json>;
  /** Give up after this long with status "unknown" (default: no limit). */
  timeBudgetMs?: number;
  /** Shrink a violation to the smallest failing prefix (default true). */
  minimize?: boolean;
}

export interface PartitionReport {
  keys: string[];
  operations: number;
  status: CheckStatus;
  /** Operation ids in a valid linearization order (linearizable partitions only). */
  witness?: number[];
  elapsedMs: number;
}

export interface LinearizabilityViolation {
  keys: string[];
  /**
   * The smallest prefix of the partition's history that is already not linearizable: every operation
   * invoked before the response of `failingOperation`. Operations of the prefix that responded later are
   * treated as still running (they may or may not have taken effect).
   */
  prefix: Operation[];
  /** The operation whose response makes the prefix non-linearizable. */
  failingOperation: Operation;
}

export interface CheckResult {
  ok: boolean;
  status: CheckStatus;
  partitions: PartitionReport[];
  violation?: LinearizabilityViolation;
  operations: number;
  elapsedMs: number;
}

export function checkLinearizability(history: readonly Operation[], options: CheckOptions = {}): CheckResult {
  const start = performance.now();
  const deadline = options.timeBudgetMs !== undefined ? start + options.timeBudgetMs : undefined;
  // A read whose response never came constrains nothing.
  const ops = history.filter((o) => o.output !== undefined || o.input.type !== "read");
  const reports: PartitionReport[] = [];
  let violation: LinearizabilityViolation | undefined;
  let status: CheckStatus = "linearizable";

  for (const part of partitionByKeys(ops)) {
    const t0 = performance.now();
    const model = new KvModel(part.keys);
    const init = model.init(options.initial);
    const sorted = [...part.ops].sort((a, b) => a.call - b.call);
    const out = searchLinearization(sorted, model, init, deadline !== undefined ? { deadline } : {});
    reports.push({
      keys: part.keys,
      operations: sorted.length,
      status: out.status,
      ...(out.status === "linearizable" ? { witness: out.order } : {}),
      elapsedMs: performance.now() - t0,
    });
    if (out.status === "unknown" && status === "linearizable") status = "unknown";
    if (out.status === "not-linearizable") {
      status = "not-linearizable";
      violation =
        options.minimize === false
          ? { keys: part.keys, prefix: sorted, failingOperation: lastReturned(sorted) }
          : smallestFailingPrefix(sorted, model, init, part.keys, deadline);
      break;
    }
    if (out.status === "unknown") break;
  }
  return {
    ok: status === "linearizable",
    status,
    partitions: reports,
    ...(violation ? { violation } : {}),
    operations: ops.length,
    elapsedMs: performance.now() - start,
  };
}

/**
 * Prefix k = operations invoked before the k-th response; those answering later become optional (ret =
 * Infinity, output kept). Non-linearizability is monotone in k (a linearization of prefix k+1 restricted to
 * prefix k is one of prefix k), so binary search finds the smallest failing k.
 */
function smallestFailingPrefix(
  ops: readonly Operation[],
  model: KvModel,
  init: ReturnType<KvModel["init"]>,
  keys: string[],
  deadline: number | undefined,
): LinearizabilityViolation {
  const returns = ops.filter((o) => Number.isFinite(o.ret)).sort((a, b) => a.ret - b.ret);
  const prefixAt = (k: number): Operation[] => {
    const t = returns[k - 1]!.ret;
    return ops
      .filter((o) => o.call <= t)
      .map((o) => (o.ret <= t ? o : { ...o, ret: Number.POSITIVE_INFINITY }));
  };
  const fails = (k: number) =>
    searchLinearization(prefixAt(k), model, init, deadline !== undefined ? { deadline } : {}).status ===
    "not-linearizable";
  let lo = 1;
  let hi = returns.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (fails(mid)) hi = mid;
    else lo = mid + 1;
  }
  const failing = returns[lo - 1]!;
  const prefix = ops.filter((o) => o.call <= failing.ret);
  return { keys, prefix, failingOperation: failing };
}

function lastReturned(ops: readonly Operation[]): Operation {
  return ops.filter((o) => Number.isFinite(o.ret)).sort((a, b) => b.ret - a.ret)[0] ?? ops[0]!;
}

/** Human-readable rendering of a violation (for logs and reports): the last `tail` operations of the prefix. */
export function describeViolation(v: LinearizabilityViolation, tail = 25): string {
  const lines = v.prefix.slice(-tail).map((o) => {
    const ret = Number.isFinite(o.ret) && o.ret <= v.failingOperation.ret ? o.ret.toFixed(3) : "…";
    const mark = o === v.failingOperation ? "  <-- cannot be linearized" : "";
    return `  #${o.id} ${o.client} [${o.call.toFixed(3)}, ${ret}] ${JSON.stringify(o.input)} -> ${JSON.stringify(o.output)}${mark}`;
  });
  return `not linearizable on keys ${v.keys.join(", ")}; smallest failing prefix (${v.prefix.length} ops, last ${Math.min(tail, v.prefix.length)} shown):\n${lines.join("\n")}`;
}
