// `meridian check <history.json>`: validates a recorded history and runs the linearizability checker.
// The history is the checker's own format (packages/monitor/src/linearizability/history.ts): operations
// { id, client, input, output?, call, ret }. JSON has no Infinity, so a missing or null `ret` (and a
// missing `output`) means the outcome is unknown.
import { readFile } from "node:fs/promises";
import { InvalidInputError } from "@meridian/core";
import { checkLinearizability, describeViolation, type Operation } from "@meridian/monitor";

const INPUT_TYPES = new Set(["read", "write", "cas", "txn"]);

export function parseHistory(text: string): Operation[] {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    throw new InvalidInputError(`not JSON: ${(err as Error).message}`, { field: "history" });
  }
  const list = Array.isArray(doc) ? doc : (doc as { history?: unknown } | null)?.history;
  if (!Array.isArray(list))
    throw new InvalidInputError('expected an array of operations or {"history": [...]}', {
      field: "history",
    });
  return list.map((raw, i) => {
    const o = raw as Record<string, unknown>;
    const input = o?.input as { type?: unknown } | undefined;
    if (!o || typeof o !== "object")
      throw new InvalidInputError(`operation ${i}: not an object`, { field: `history[${i}]` });
    if (!input || typeof input !== "object" || !INPUT_TYPES.has(String(input.type))) {
      throw new InvalidInputError(`operation ${i}: input.type must be read | write | cas | txn`, {
        field: `history[${i}].input.type`,
      });
    }
    if (typeof o.call !== "number" || !Number.isFinite(o.call))
      throw new InvalidInputError(`operation ${i}: call must be a number`, { field: `history[${i}].call` });
    const ret = o.ret === undefined || o.ret === null ? Number.POSITIVE_INFINITY : o.ret;
    if (typeof ret !== "number" || ret < o.call)
      throw new InvalidInputError(`operation ${i}: ret must be a number ≥ call`, {
        field: `history[${i}].ret`,
      });
    return {
      id: typeof o.id === "number" ? o.id : i,
      client: String(o.client ?? "?"),
      input: input as Operation["input"],
      ...(o.output !== undefined && o.output !== null ? { output: o.output as Operation["output"] } : {}),
      call: o.call,
      ret,
    };
  });
}

export async function checkHistoryFile(
  file: string,
  budgetMs?: number,
): Promise<{ text: string; exitCode: number }> {
  let history: Operation[];
  try {
    history = parseHistory(await readFile(file, "utf8"));
  } catch (err) {
    return { text: `cannot check ${file}: ${(err as Error).message}`, exitCode: 2 };
  }
  const result = checkLinearizability(history, budgetMs !== undefined ? { timeBudgetMs: budgetMs } : {});
  const head = `${file}: ${result.operations} operations in ${result.partitions.length} key partitions, checked in ${result.elapsedMs.toFixed(0)} ms`;
  if (result.status === "linearizable") return { text: `${head}\nLINEARIZABLE`, exitCode: 0 };
  if (result.status === "unknown") {
    const keys = result.partitions.filter((p) => p.status === "unknown").flatMap((p) => p.keys);
    return { text: `${head}\nUNDECIDED within the budget (keys: ${keys.join(", ")})`, exitCode: 2 };
  }
  return { text: `${head}\nNOT LINEARIZABLE\n${describeViolation(result.violation!)}`, exitCode: 1 };
}
