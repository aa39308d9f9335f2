import { InvalidInputError, LWWRegister, PNCounter, VectorClock } from "@meridian/core";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { digestOf } from "./codec.js";
import { applyWrite } from "./crdt-write.js";
import { resolveEntries } from "./resolve.js";
import { entry } from "./test-support.js";
import type { StoredEntry } from "./types.js";

const ts = (wallMs: number, node = "us-east") => ({ wallMs, logical: 0, node });

describe("resolveEntries", () => {
  const a1 = entry(LWWRegister.empty().set("a", ts(1)), { "us-east": 1 });
  const a2 = entry(LWWRegister.empty().set("b", ts(2)), { "us-east": 2 });
  const b1 = entry(
    LWWRegister.empty().set("c", ts(3, "eu-west")),
    { "us-east": 1, "eu-west": 1 },
    ts(3, "eu-west"),
  );
  const c1 = entry(LWWRegister.empty().set("d", ts(1, "ap-south")), { "ap-south": 1 }, ts(1, "ap-south"));

  it("applies to an empty copy, replaces a dominated copy, ignores a dominated update and a duplicate", () => {
    expect(resolveEntries(null, a1, 5).outcome).toBe("applied");
    const replaced = resolveEntries(a1, a2, 5);
    expect(replaced.outcome).toBe("applied");
    expect(replaced.entry.crdt.value()).toBe("b");
    expect(resolveEntries(a2, a1, 5)).toMatchObject({ outcome: "dominated", changed: false });
    expect(resolveEntries(a2, a2, 5)).toMatchObject({ outcome: "duplicate", changed: false });
  });

  it("a dominating state replaces even when its LWW timestamp is older (clocks decide, not HLC)", () => {
    // b1 saw a1 and wrote at HLC 3; a write that saw b1 but carries an older HLC still replaces it.
    const late = entry(LWWRegister.empty().set("late", ts(2, "eu-west")), { "us-east": 1, "eu-west": 2 });
    expect(resolveEntries(b1, late, 5).entry.crdt.value()).toBe("late");
  });

  it("merges concurrent copies with the CRDT and joins the clocks", () => {
    const r = resolveEntries(a2, c1, 5);
    expect(r.outcome).toBe("merged");
    expect(r.entry.clock.toJSON()).toEqual({ "ap-south": 1, "us-east": 2 });
    expect(r.entry.crdt.value()).toBe("b"); // HLC 2 beats HLC 1
  });

  it("refuses to merge different CRDT types", () => {
    const counter = entry(PNCounter.empty().increment("us-east"), { "ap-south": 2 });
    expect(() => resolveEntries(a1, counter, 5)).toThrow(InvalidInputError);
  });
});

// Model: regions write (each write = the region's full new state, as published) and sometimes absorb
// another region's published state. Whatever order/duplication the published updates are delivered in,
// folding them with resolveEntries ends in one state.
type Step = { region: number; kind: "inc" | "dec" | "absorb"; by: number; from: number };
const REGIONS = ["us-east", "us-west", "eu-west"];

function publishedUpdates(steps: Step[]): StoredEntry[] {
  const local: (StoredEntry | null)[] = REGIONS.map(() => null);
  const published: StoredEntry[] = [];
  let wall = 1;
  for (const s of steps) {
    const cur = local[s.region]!;
    if (s.kind === "absorb") {
      const other = local[s.from];
      if (other) local[s.region] = resolveEntries(cur, other, 0).entry;
      continue;
    }
    const region = REGIONS[s.region]!;
    const clock = (cur?.clock ?? VectorClock.empty()).increment(region);
    const hlc = ts(wall++, region);
    const crdt = applyWrite(
      "pncounter",
      cur?.crdt ?? PNCounter.empty(),
      { op: s.kind === "inc" ? "increment" : "decrement", by: s.by },
      {
        region,
        ts: hlc,
        clock,
        tag: `${region}.${wall}`,
      },
    );
    const next: StoredEntry = { crdt, clock, hlc, region, updatedAtMs: 0 };
    local[s.region] = next;
    published.push(next);
  }
  return published;
}

describe("convergence regardless of delivery order (model)", () => {
  const step = fc.record({
    region: fc.integer({ min: 0, max: 2 }),
    kind: fc.constantFrom<Step["kind"]>("inc", "dec", "absorb"),
    by: fc.integer({ min: 1, max: 5 }),
    from: fc.integer({ min: 0, max: 2 }),
  });

  it("any permutation with duplicates of the published updates folds to the same state", () => {
    fc.assert(
      fc.property(
        fc.array(step, { minLength: 1, maxLength: 25 }),
        fc.integer(),
        fc.integer(),
        (steps, s1, s2) => {
          const ups = publishedUpdates(steps);
          fc.pre(ups.length > 0);
          const deliver = (seed: number) => {
            const rnd = fc.sample(
              fc.shuffledSubarray(ups, { minLength: ups.length, maxLength: ups.length }),
              {
                seed,
                numRuns: 1,
              },
            )[0]!;
            const dups = fc.sample(fc.array(fc.constantFrom(...ups), { maxLength: 5 }), {
              seed: seed + 1,
              numRuns: 1,
            })[0]!;
            return [...rnd, ...dups].reduce<StoredEntry | null>(
              (acc, u) => resolveEntries(acc, u, 0).entry,
              null,
            )!;
          };
          const x = deliver(s1);
          const y = deliver(s2);
          expect(digestOf(x)).toBe(digestOf(y));
          // The value is the sum of every write, none lost.
          const expected = steps
            .filter((s) => s.kind !== "absorb")
            .reduce((acc, s) => acc + (s.kind === "inc" ? s.by : -s.by), 0);
          expect(x.crdt.value()).toBe(expected);
        },
      ),
      { numRuns: 200 },
    );
  });
});
