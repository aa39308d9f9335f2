// How the writes one key received inside a flush window become one CRDT delta. Pure.
//
// Legal because a local write is an inflation of the stored state and merges are associative,
// commutative and idempotent: applying the window's writes in arrival order to the stored state, then
// writing once, gives the state the writes would have given one by one, minus the intermediate states
// nobody else could have observed consistently anyway (each was overwritten within the window).
// - pncounter, only integer increments/decrements: the amounts are summed per side (one Lua call each);
// - lww / mvregister: the last write of the window wins (each write superseded the previous one);
// - orset, pncounter targets or fractional amounts: the writes are applied in order to the stored state.
import {
  type AnyCrdt,
  type CrdtType,
  emptyCrdt,
  InvalidInputError,
  type MeridianError,
  VectorClock,
} from "@meridian/core";
import { luaCounterAmount } from "./counter-merge.js";
import { applyWrite, isCrdtOp, type WriteContext } from "./crdt-write.js";

export type FoldedWrite =
  /** Summed integer counter ops; `writes` > 0 even when both sums are 0 (the write still ticks the clock). */
  | { kind: "counter"; increment: number; decrement: number; writes: number }
  /** Writes to apply in order on the stored state. */
  | { kind: "apply"; values: unknown[] };

function counterAmount(value: unknown): { side: "increment" | "decrement"; by: number } | null {
  if (!isCrdtOp(value) || (value.op !== "increment" && value.op !== "decrement")) return null;
  const by = value.by ?? 1;
  return typeof by === "number" && luaCounterAmount(by) ? { side: value.op, by } : null;
}

/** The one delta `values` (in arrival order, at least one) amount to on a key of `type`. */
export function foldWrites(type: CrdtType, values: readonly unknown[]): FoldedWrite {
  if (type === "lww" || type === "mvregister") return { kind: "apply", values: [values.at(-1)] };
  if (type === "pncounter") {
    let increment = 0;
    let decrement = 0;
    for (const v of values) {
      const op = counterAmount(v);
      if (!op) return { kind: "apply", values: [...values] };
      if (op.side === "increment") increment += op.by;
      else decrement += op.by;
    }
    if (luaCounterAmount(increment) && luaCounterAmount(decrement)) {
      return { kind: "counter", increment, decrement, writes: values.length };
    }
  }
  return { kind: "apply", values: [...values] };
}

/** Applies `values` in order on `current` under one write context (each OR-set add its own tag). */
export function applyFolded(type: CrdtType, current: AnyCrdt, values: readonly unknown[], ctx: WriteContext) {
  let crdt = current;
  values.forEach((v, i) => {
    crdt = applyWrite(type, crdt, v, i === 0 ? ctx : { ...ctx, tag: `${ctx.tag}~${i}` });
  });
  return crdt;
}

/** The counter parts a folded counter write sends to the Lua merge (one script call each). */
export function counterParts(f: Extract<FoldedWrite, { kind: "counter" }>) {
  const parts: { side: "increment" | "decrement"; by: number }[] = [];
  if (f.increment > 0) parts.push({ side: "increment", by: f.increment });
  if (f.decrement > 0) parts.push({ side: "decrement", by: f.decrement });
  return parts.length > 0 ? parts : [{ side: "increment" as const, by: 0 }];
}

const PROBE: WriteContext = {
  region: "probe",
  ts: { wallMs: 1, logical: 0, node: "probe" },
  clock: VectorClock.empty(),
  tag: "probe",
};

/**
 * Throws the InvalidInputError a write of `value` on a key of `type` would, before it joins a batch:
 * a malformed write fails its own caller, never the batch it would have ridden in.
 */
export function checkWrite(type: CrdtType, value: unknown): void {
  if (type === "pncounter" && counterAmount(value)) return;
  try {
    applyWrite(type, emptyCrdt(type), value, PROBE);
  } catch (err) {
    if (err instanceof InvalidInputError) throw err;
    throw new InvalidInputError(`write refused: ${(err as MeridianError).message}`, { type });
  }
}
