// fast-check generators for core's value objects, shared by the property tests (not part of the public API).
import fc from "fast-check";
import type { HlcTimestamp } from "../clocks/hlc.js";
import { VectorClock } from "../clocks/vector-clock.js";
import { LWWRegister } from "../crdt/lww-register.js";
import { MVRegister } from "../crdt/mv-register.js";
import { ORSet } from "../crdt/or-set.js";
import { PNCounter } from "../crdt/pn-counter.js";

/** A small node universe so random clocks and counters collide often. */
export const NODES = ["us-east", "us-west", "eu-west", "ap-south", "ap-northeast"] as const;
export const nodeArb = fc.constantFrom(...NODES);

export const vectorClockArb: fc.Arbitrary<VectorClock> = fc
  .dictionary(nodeArb, fc.nat({ max: 4 }), { maxKeys: NODES.length })
  .map((record) => VectorClock.from(record));

/** Clocks with arbitrary (odd) node ids, for encoding round trips. */
export const anyNodeVectorClockArb: fc.Arbitrary<VectorClock> = fc
  .dictionary(fc.string({ minLength: 1, maxLength: 8 }), fc.nat(), { maxKeys: 6 })
  .map((record) => VectorClock.from(record));

export const hlcArb: fc.Arbitrary<HlcTimestamp> = fc.record({
  wallMs: fc.integer({ min: 0, max: 5 }),
  logical: fc.integer({ min: 0, max: 3 }),
  node: nodeArb,
});

/** JSON values used as register contents and set elements; small domain to force equal values. */
export const jsonValueArb: fc.Arbitrary<unknown> = fc.oneof(
  fc.integer({ min: 0, max: 3 }),
  fc.constantFrom("a", "b", "AAPL"),
  fc.constant(null),
  fc.record({ px: fc.integer({ min: 0, max: 2 }), sym: fc.constantFrom("x", "y") }),
);

export const lwwArb: fc.Arbitrary<LWWRegister<unknown>> = fc
  .array(fc.tuple(jsonValueArb, hlcArb), { maxLength: 4 })
  .map((writes) => writes.reduce((r, [v, ts]) => r.set(v, ts), LWWRegister.empty<unknown>()));

export const pnCounterArb: fc.Arbitrary<PNCounter> = fc
  .array(fc.tuple(fc.boolean(), nodeArb, fc.nat({ max: 20 })), { maxLength: 8 })
  .map((ops) =>
    ops.reduce(
      (c, [inc, node, by]) => (inc ? c.increment(node, by) : c.decrement(node, by)),
      PNCounter.empty(),
    ),
  );

type OrSetOp = { kind: "add"; element: unknown; tag: string } | { kind: "remove"; element: unknown };
const orSetOpArb: fc.Arbitrary<OrSetOp> = fc.oneof(
  fc.record({
    kind: fc.constant("add" as const),
    element: jsonValueArb,
    // A small tag space: the same (element, tag) in two replicas stands for one add seen by both.
    tag: fc.integer({ min: 0, max: 9 }).map((n) => `t${n}`),
  }),
  fc.record({ kind: fc.constant("remove" as const), element: jsonValueArb }),
);

export function applyOrSetOps(start: ORSet<unknown>, ops: readonly OrSetOp[]): ORSet<unknown> {
  let s = start;
  for (const op of ops) {
    if (op.kind === "remove") s = s.remove(op.element);
    // Re-adding a tombstoned tag is refused by ORSet (tags must be unique); such a step is skipped.
    else if (!isTombstoned(s, op.element, op.tag)) s = s.add(op.element, op.tag);
  }
  return s;
}

function isTombstoned(s: ORSet<unknown>, element: unknown, tag: string): boolean {
  try {
    s.add(element, tag);
    return false;
  } catch {
    return true;
  }
}

export const orSetArb: fc.Arbitrary<ORSet<unknown>> = fc
  .array(orSetOpArb, { maxLength: 8 })
  .map((ops) => applyOrSetOps(ORSet.empty<unknown>(), ops));

type MvOp = { value: unknown; clock: VectorClock } | { value: unknown; node: string };
const mvOpArb: fc.Arbitrary<MvOp> = fc.oneof(
  fc.record({ value: jsonValueArb, clock: vectorClockArb }),
  fc.record({ value: jsonValueArb, node: nodeArb }),
);

export const mvRegisterArb: fc.Arbitrary<MVRegister<unknown>> = fc
  .array(mvOpArb, { maxLength: 5 })
  .map((ops) =>
    ops.reduce(
      (r, op) => ("clock" in op ? r.set(op.value, op.clock) : r.set(op.value, r.clock().increment(op.node))),
      MVRegister.empty<unknown>(),
    ),
  );
