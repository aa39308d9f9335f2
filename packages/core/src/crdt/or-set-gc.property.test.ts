// Collecting OR-set tombstones at causally stable frontiers, checked against the same histories run
// without collection: five regions add and remove, exchange any (stale) published state in any order,
// and GC passes write the collected state into some of the regions. Also the MV-register's bound.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { VectorClock } from "../clocks/vector-clock.js";
import { NODES } from "../testing/arbitraries.js";
import { canonicalJson } from "./canonical-json.js";
import { dotTag } from "./dots.js";
import { crdtFromJSON } from "./from-json.js";
import { MVRegister } from "./mv-register.js";
import { ORSet } from "./or-set.js";

const RUNS = { numRuns: 400 };
const REGIONS = NODES.length;
const elementArb = fc.constantFrom("a", "b", "c", { px: 1 });

/** One region's copy: the collected set, the never-collected reference, and the entry clock. */
interface Copy {
  gc: ORSet<unknown>;
  ref: ORSet<unknown>;
  clock: VectorClock;
}

const stepArb = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.record({ kind: fc.constant("add" as const), at: fc.nat(REGIONS - 1), e: elementArb }),
  },
  {
    weight: 3,
    arbitrary: fc.record({ kind: fc.constant("remove" as const), at: fc.nat(REGIONS - 1), e: elementArb }),
  },
  // Any state ever published, however stale (a late Kafka message, an old anti-entropy push).
  {
    weight: 4,
    arbitrary: fc.record({ kind: fc.constant("deliver" as const), at: fc.nat(REGIONS - 1), pick: fc.nat() }),
  },
  // A GC pass: it reads each region's copy as it was `lag` changes ago (reads are not one snapshot), and
  // its write reaches only the regions in `into` (the rest get it as a published state).
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant("gc" as const),
      lag: fc.array(fc.nat(2), { minLength: REGIONS, maxLength: REGIONS }),
      into: fc.array(
        fc.nat(3).map((n) => n > 0),
        { minLength: REGIONS, maxLength: REGIONS },
      ),
    }),
  },
  // Anti-entropy at one region: it merges every region's current copy.
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("sync" as const), at: fc.nat(REGIONS - 1) }) },
);
type Step = typeof stepArb extends fc.Arbitrary<infer S> ? S : never;

const mergeCopies = (a: Copy, b: Copy): Copy => ({
  gc: a.gc.merge(b.gc),
  ref: a.ref.merge(b.ref),
  clock: a.clock.merge(b.clock),
});

/** The minimum over regions of their entry clocks: every region has seen every dot at or below it. */
function stableFrontier(copies: readonly Copy[]): Map<string, number> {
  return new Map(NODES.map((node) => [node, Math.min(...copies.map((c) => c.clock.get(node)))]));
}

let tombstonesCollected = 0;
function gcPass(copies: Copy[]): Copy {
  const all = copies.reduce(mergeCopies);
  const gc = all.gc.collect(stableFrontier(copies));
  tombstonesCollected += all.gc.tagCount().removes - gc.tagCount().removes;
  return { ...all, gc };
}

/** Runs the history; `check` sees every region after every step. Returns the copies and what was published. */
function run(steps: Step[], check: (c: Copy) => void = () => {}) {
  const empty: Copy = { gc: ORSet.empty(), ref: ORSet.empty(), clock: VectorClock.empty() };
  const copies: Copy[] = NODES.map(() => empty);
  const past: Copy[][] = NODES.map(() => [empty]);
  const set = (r: number, c: Copy) => {
    copies[r] = c;
    past[r]!.push(c);
  };
  const published: Copy[] = [];
  steps.forEach((s, i) => {
    if (s.kind === "gc") {
      const collected = gcPass(past.map((p, r) => p[Math.max(0, p.length - 1 - s.lag[r]!)]!));
      published.push(collected);
      s.into.forEach((yes, r) => {
        if (yes) set(r, mergeCopies(copies[r]!, collected));
      });
    } else if (s.kind === "sync") {
      set(s.at, copies.reduce(mergeCopies));
    } else if (s.kind === "deliver") {
      if (published.length > 0) set(s.at, mergeCopies(copies[s.at]!, published[s.pick % published.length]!));
    } else {
      const node = NODES[s.at]!;
      const c = copies[s.at]!;
      const clock = c.clock.increment(node);
      const tag = dotTag(node, clock.get(node), String(i))!;
      set(
        s.at,
        s.kind === "add"
          ? { gc: c.gc.add(s.e, tag), ref: c.ref.add(s.e, tag), clock }
          : { gc: c.gc.remove(s.e), ref: c.ref.remove(s.e), clock },
      );
      published.push(copies[s.at]!);
    }
    copies.forEach(check);
  });
  return { copies, published };
}

const sameValue = (c: Copy) => expect(canonicalJson(c.gc.value())).toBe(canonicalJson(c.ref.value()));
const historyArb = fc.array(stepArb, { minLength: 1, maxLength: 60, size: "max" });

describe("ORSet tombstone collection", () => {
  it("never resurrects a removed element nor loses an add: every region's value equals the reference", () => {
    tombstonesCollected = 0;
    fc.assert(
      fc.property(historyArb, (steps) => {
        const { copies, published } = run(steps, sameValue);
        // Everything delivered everywhere, stale states last: still the reference's value.
        const final = [...copies, ...published].reduce(mergeCopies);
        sameValue(final);
        for (const p of published) sameValue(mergeCopies(final, p));
      }),
      RUNS,
    );
    // The histories did exercise collection (a vacuous pass would prove nothing).
    expect(tombstonesCollected).toBeGreaterThan(RUNS.numRuns);
  });

  it("collects every tombstone once all regions converged: size is the live tags only", () => {
    fc.assert(
      fc.property(historyArb, (steps) => {
        const { copies } = run(steps);
        const synced = copies.map(() => copies.reduce(mergeCopies));
        const collected = gcPass(synced).gc;
        const live = collected.value().length;
        expect(collected.tagCount().removes).toBe(0);
        // One live tag per concurrent adder of an element at most (a re-add retires the tags it saw).
        expect(collected.tagCount().adds).toBeLessThanOrEqual(live * REGIONS);
        const reference = synced[0]!.ref.tagCount();
        expect(collected.tagCount().adds).toBeLessThanOrEqual(reference.adds);
      }),
      RUNS,
    );
  });

  it("merge of collected states is commutative, associative and idempotent, and round-trips JSON", () => {
    const statesArb = historyArb
      .map((steps) => run(steps).published.map((p) => p.gc))
      .filter((states) => states.length > 0);
    fc.assert(
      fc.property(statesArb, fc.nat(), fc.nat(), fc.nat(), (states, i, j, k) => {
        const [a, b, c] = [i, j, k].map((n) => states[n % states.length]!) as [
          ORSet<unknown>,
          ORSet<unknown>,
          ORSet<unknown>,
        ];
        const same = (x: ORSet<unknown>, y: ORSet<unknown>) => {
          expect(x.equals(y)).toBe(true);
          expect(canonicalJson(x.toJSON())).toBe(canonicalJson(y.toJSON()));
        };
        same(a.merge(b), b.merge(a));
        same(a.merge(b).merge(c), a.merge(b.merge(c)));
        same(a.merge(a), a);
        same(a.merge(b).merge(b), a.merge(b));
        same(crdtFromJSON(JSON.parse(JSON.stringify(a.toJSON()))) as ORSet<unknown>, a);
      }),
      RUNS,
    );
  });

  it("reads states written before collection existed (no `collected` field) and writes them unchanged", () => {
    const old = { adds: [["a", ["t1", "t2"]]], removes: [["a", ["t1"]]] };
    const s = ORSet.fromState(old);
    expect(s.value()).toEqual(["a"]);
    expect(s.toJSON()).toEqual({ type: "orset", state: old });
    // Opaque tags are never collected, whatever the frontier.
    expect(s.collect(new Map([["t1", 99]]))).toBe(s);
  });
});

describe("MVRegister has no unbounded state", () => {
  it("holds at most one sibling per writer: a writer's own writes are ordered by its entry clock", () => {
    const mvStep = fc.record({ at: fc.nat(REGIONS - 1), write: fc.boolean(), pick: fc.nat(), v: fc.nat(3) });
    fc.assert(
      fc.property(fc.array(mvStep, { maxLength: 40 }), (steps) => {
        const copies = NODES.map(() => ({ reg: MVRegister.empty<number>(), clock: VectorClock.empty() }));
        const published: Array<(typeof copies)[number]> = [];
        const writers = new Set<string>();
        for (const s of steps) {
          const c = copies[s.at]!;
          if (s.write) {
            const clock = c.clock.increment(NODES[s.at]!);
            copies[s.at] = { reg: c.reg.set(s.v, clock), clock };
            writers.add(NODES[s.at]!);
            published.push(copies[s.at]!);
          } else if (published.length > 0) {
            const p = published[s.pick % published.length]!;
            copies[s.at] = { reg: c.reg.merge(p.reg), clock: c.clock.merge(p.clock) };
          }
        }
        const all = [...copies, ...published].reduce((a, b) => ({ reg: a.reg.merge(b.reg), clock: a.clock }));
        for (const c of [...copies, all]) expect(c.reg.entries().length).toBeLessThanOrEqual(writers.size);
      }),
      RUNS,
    );
  });
});
