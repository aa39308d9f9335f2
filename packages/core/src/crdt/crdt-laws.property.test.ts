import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { compareHlc } from "../clocks/hlc.js";
import {
  applyOrSetOps,
  jsonValueArb,
  lwwArb,
  mvRegisterArb,
  orSetArb,
  pnCounterArb,
} from "../testing/arbitraries.js";
import { canonicalJson } from "./canonical-json.js";
import { crdtFromJSON } from "./from-json.js";
import { ORSet } from "./or-set.js";
import { PNCounter } from "./pn-counter.js";
import type { Crdt } from "./types.js";

const RUNS = { numRuns: 1000 };

function sameState<V>(a: Crdt<V>, b: Crdt<V>): void {
  expect(a.equals(b)).toBe(true);
  // Wrapped in an array so an empty register's `undefined` value compares as null.
  expect(canonicalJson([a.value()])).toBe(canonicalJson([b.value()]));
  expect(canonicalJson(a.toJSON())).toBe(canonicalJson(b.toJSON()));
}

const cases = [
  ["LWWRegister", lwwArb],
  ["PNCounter", pnCounterArb],
  ["ORSet", orSetArb],
  ["MVRegister", mvRegisterArb],
] as const;

describe.each(cases)("%s merge laws", (_name, arb) => {
  // Widen to the common interface; each arbitrary produces one concrete class.
  const crdtArb = arb as fc.Arbitrary<Crdt<unknown>>;

  it("is commutative", () => {
    fc.assert(
      fc.property(crdtArb, crdtArb, (a, b) => sameState(a.merge(b), b.merge(a))),
      RUNS,
    );
  });

  it("is associative", () => {
    fc.assert(
      fc.property(crdtArb, crdtArb, crdtArb, (a, b, c) =>
        sameState(a.merge(b).merge(c), a.merge(b.merge(c))),
      ),
      RUNS,
    );
  });

  it("is idempotent (also re-merging a merged-in state)", () => {
    fc.assert(
      fc.property(crdtArb, crdtArb, (a, b) => {
        sameState(a.merge(a), a);
        sameState(a.merge(b).merge(b), a.merge(b));
      }),
      RUNS,
    );
  });

  it("round-trips through toJSON / JSON text / crdtFromJSON", () => {
    fc.assert(
      fc.property(crdtArb, (a) => {
        const back = crdtFromJSON(JSON.parse(JSON.stringify(a.toJSON()))) as Crdt<unknown>;
        sameState(back, a);
      }),
      RUNS,
    );
  });
});

describe("CRDT semantics", () => {
  it("LWWRegister merge keeps the write with the greatest HLC", () => {
    fc.assert(
      fc.property(lwwArb, lwwArb, (a, b) => {
        const m = a.merge(b);
        const ta = a.timestamp();
        const tb = b.timestamp();
        if (!ta || !tb) return;
        const winner = compareHlc(ta, tb) >= 0 ? ta : tb;
        expect(m.timestamp()).toEqual(winner);
      }),
      RUNS,
    );
  });

  it("PNCounter merge of replicas on disjoint nodes sums their values", () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: -50, max: 50 }), { maxLength: 10 }), (deltas) => {
        const replicas = deltas.map((d, i) => {
          const node = `n${i}`;
          return d >= 0 ? PNCounter.empty().increment(node, d) : PNCounter.empty().decrement(node, -d);
        });
        const merged = replicas.reduce((acc, r) => acc.merge(r), PNCounter.empty());
        expect(merged.value()).toBe(deltas.reduce((s, d) => s + d, 0));
      }),
      RUNS,
    );
  });

  it("ORSet is add-wins: an add with a fresh tag survives a concurrent remove", () => {
    fc.assert(
      fc.property(orSetArb, jsonValueArb, (base, element) => {
        const removed = base.remove(element);
        const added = base.add(element, "fresh-unique-tag");
        expect(removed.has(element)).toBe(false);
        expect(removed.merge(added).has(element)).toBe(true);
        expect(added.merge(removed).has(element)).toBe(true);
        // A remove that observed the add does win.
        expect(added.remove(element).merge(added).has(element)).toBe(false);
      }),
      RUNS,
    );
  });

  it("ORSet value holds each element at most once", () => {
    fc.assert(
      fc.property(orSetArb, orSetArb, (a, b) => {
        const keys = a
          .merge(b)
          .value()
          .map((e) => canonicalJson(e));
        expect(new Set(keys).size).toBe(keys.length);
        expect(applyOrSetOps(ORSet.empty(), []).value()).toEqual([]);
      }),
      RUNS,
    );
  });

  it("MVRegister keeps only mutually concurrent siblings; a write at the merged clock supersedes all", () => {
    fc.assert(
      fc.property(mvRegisterArb, mvRegisterArb, jsonValueArb, (a, b, v) => {
        const m = a.merge(b);
        const entries = m.entries();
        for (const x of entries) {
          for (const y of entries) if (x !== y) expect(x.clock.compare(y.clock)).not.toBe("before");
        }
        const resolved = m.set(v, m.clock().increment("ap-south"));
        expect(resolved.value()).toHaveLength(1);
        expect(resolved.merge(a).merge(b).equals(resolved)).toBe(true);
      }),
      RUNS,
    );
  });
});
