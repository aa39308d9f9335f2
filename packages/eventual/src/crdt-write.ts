// How a local write or a rollback turns into a new CRDT state. Pure. Every result is an inflation of
// the current state (a normal CRDT operation), so it merges correctly with concurrent remote updates.
import {
  type AnyCrdt,
  type CrdtType,
  canonicalJson,
  dotTag,
  type HlcTimestamp,
  InvalidInputError,
  type LWWRegister,
  type MVRegister,
  type ORSet,
  type PNCounter,
  type VectorClock,
} from "@meridian/core";
import type { CrdtOp } from "./types.js";

export interface WriteContext {
  /** Writing region: PN-counter node id, ORSet tag source. */
  region: string;
  /** HLC timestamp of this write, greater than the stored one (LWW winner). */
  ts: HlcTimestamp;
  /** The new entry clock (dominates the stored one). MV-register siblings are stamped with it. */
  clock: VectorClock;
  /** Unique per write: ORSet add tags are derived from it. */
  tag: string;
}

/**
 * The OR-set add tag of a write: a dot carrying the writer and its clock counter of this write (so the
 * tombstone can be collected once every region's clock has passed it), or the bare ctx tag when the
 * clock holds no counter for the writer.
 */
function addTag(ctx: WriteContext): string {
  return dotTag(ctx.region, ctx.clock.get(ctx.region), ctx.tag) ?? ctx.tag;
}

const OPS = new Set(["increment", "decrement", "add", "remove"]);

export function isCrdtOp(value: unknown): value is CrdtOp {
  return (
    value !== null &&
    typeof value === "object" &&
    !Array.isArray(value) &&
    typeof (value as { op?: unknown }).op === "string" &&
    OPS.has((value as { op: string }).op)
  );
}

function amount(by: unknown): number {
  const n = by ?? 1;
  if (typeof n !== "number" || !Number.isFinite(n) || n < 0) {
    throw new InvalidInputError("counter op `by` must be a finite number >= 0", { by });
  }
  return n;
}

function counterTo(counter: PNCounter, target: number, region: string): PNCounter {
  if (typeof target !== "number" || !Number.isFinite(target)) {
    throw new InvalidInputError("counter target must be a finite number", { target });
  }
  const delta = target - counter.value();
  if (delta > 0) return counter.increment(region, delta);
  if (delta < 0) return counter.decrement(region, -delta);
  return counter;
}

function setTo(set: ORSet<unknown>, target: unknown[], tag: string): ORSet<unknown> {
  const wanted = new Map(target.map((e) => [canonicalJson(e), e] as const));
  let out = set;
  for (const present of set.value()) if (!wanted.has(canonicalJson(present))) out = out.remove(present);
  let i = 0;
  for (const [json, element] of wanted) {
    if (!out.value().some((p) => canonicalJson(p) === json)) out = out.add(element, `${tag}.${i++}`);
  }
  return out;
}

/**
 * Applies a caller's write to `current` (of `type`):
 * - lww: any JSON value (ops are refused: an op on an LWW key is a policy mistake);
 * - pncounter: `{op:"increment"|"decrement", by?}`, or a number = set the value to it (compensating delta);
 * - orset: `{op:"add"|"remove", element}`, or an array = make the membership exactly that;
 * - mvregister: any JSON value; it supersedes every sibling the writer has seen.
 */
export function applyWrite(type: CrdtType, current: AnyCrdt, input: unknown, ctx: WriteContext): AnyCrdt {
  if (current.type !== type) {
    throw new InvalidInputError("key's CRDT policy differs from the stored type", {
      policy: type,
      stored: current.type,
    });
  }
  switch (type) {
    case "lww":
      if (input === undefined || isCrdtOp(input)) {
        throw new InvalidInputError("an LWW key takes a JSON value, not an op/undefined", { input });
      }
      return (current as LWWRegister<unknown>).set(input, ctx.ts);
    case "mvregister":
      if (input === undefined || isCrdtOp(input)) {
        throw new InvalidInputError("an MV-register key takes a JSON value, not an op/undefined", { input });
      }
      return (current as MVRegister<unknown>).set(input, ctx.clock);
    case "pncounter": {
      const c = current as PNCounter;
      if (typeof input === "number") return counterTo(c, input, ctx.region);
      if (isCrdtOp(input) && input.op === "increment") return c.increment(ctx.region, amount(input.by));
      if (isCrdtOp(input) && input.op === "decrement") return c.decrement(ctx.region, amount(input.by));
      throw new InvalidInputError("a PN-counter key takes {op:'increment'|'decrement', by} or a number", {
        input,
      });
    }
    case "orset": {
      const s = current as ORSet<unknown>;
      if (Array.isArray(input)) return setTo(s, input, addTag(ctx));
      if (isCrdtOp(input) && input.op === "add" && "element" in input && input.element !== undefined) {
        return s.add(input.element, addTag(ctx));
      }
      if (isCrdtOp(input) && input.op === "remove" && "element" in input && input.element !== undefined) {
        return s.remove(input.element);
      }
      throw new InvalidInputError("an OR-set key takes {op:'add'|'remove', element} or an array", { input });
    }
    default:
      throw new InvalidInputError("unknown CRDT type", { type });
  }
}

/**
 * A new state, inflating `current`, whose value equals `target`'s value: how rollback restores an
 * overridden state without going backwards in the lattice (which a merge would undo). Returns the entry
 * clock to use too: restoring several MV siblings needs one extra (pseudo) node per sibling so the
 * siblings stay mutually concurrent yet dominate everything seen.
 */
export function restoreValue(
  current: AnyCrdt,
  target: AnyCrdt,
  ctx: WriteContext,
): { crdt: AnyCrdt; clock: VectorClock } {
  if (current.type !== target.type) {
    throw new InvalidInputError("cannot restore a state of another CRDT type", {
      current: current.type,
      target: target.type,
    });
  }
  switch (target.type) {
    case "lww": {
      const v = (target as LWWRegister<unknown>).value();
      if (v === undefined) throw new InvalidInputError("the overridden LWW state holds no value to restore");
      return { crdt: (current as LWWRegister<unknown>).set(v, ctx.ts), clock: ctx.clock };
    }
    case "pncounter":
      return {
        crdt: counterTo(current as PNCounter, (target as PNCounter).value(), ctx.region),
        clock: ctx.clock,
      };
    case "orset":
      return {
        crdt: setTo(current as ORSet<unknown>, (target as ORSet<unknown>).value(), addTag(ctx)),
        clock: ctx.clock,
      };
    case "mvregister": {
      const values = (target as MVRegister<unknown>).value();
      if (values.length === 0)
        throw new InvalidInputError("the overridden MV state holds no value to restore");
      if (values.length === 1) {
        return { crdt: (current as MVRegister<unknown>).set(values[0], ctx.clock), clock: ctx.clock };
      }
      let reg = current as MVRegister<unknown>;
      let clock = ctx.clock;
      values.forEach((v, i) => {
        const sib = ctx.clock.increment(`${ctx.region}~rollback${i}`);
        reg = reg.set(v, sib);
        clock = clock.merge(sib);
      });
      return { crdt: reg, clock };
    }
    default:
      throw new InvalidInputError("unknown CRDT type");
  }
}
