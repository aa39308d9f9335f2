import {
  type AnyCrdt,
  emptyCrdt,
  InvalidInputError,
  LWWRegister,
  MVRegister,
  ORSet,
  PNCounter,
  parseDot,
  VectorClock,
} from "@meridian/core";
import { describe, expect, it } from "vitest";
import { applyWrite, isCrdtOp, restoreValue, type WriteContext } from "./crdt-write.js";

const ctx = (wallMs: number, clock: Record<string, number>, region = "us-east"): WriteContext => ({
  region,
  ts: { wallMs, logical: 0, node: region },
  clock: VectorClock.from(clock),
  tag: `${region}.${wallMs}`,
});

describe("applyWrite", () => {
  it("lww sets the value; refuses ops and undefined", () => {
    const r = applyWrite("lww", emptyCrdt("lww"), { px: 101.5 }, ctx(5, { "us-east": 1 }));
    expect(r.value()).toEqual({ px: 101.5 });
    expect(() => applyWrite("lww", r, { op: "increment", by: 1 }, ctx(6, {}))).toThrow(InvalidInputError);
    expect(() => applyWrite("lww", r, undefined, ctx(6, {}))).toThrow(InvalidInputError);
    expect(() => applyWrite("lww", r, 10n, ctx(6, {}))).toThrow(InvalidInputError);
  });

  it("pncounter takes increments, decrements and a target number", () => {
    let c: AnyCrdt = emptyCrdt("pncounter");
    c = applyWrite("pncounter", c, { op: "increment", by: 5 }, ctx(1, {}));
    c = applyWrite("pncounter", c, { op: "decrement", by: 2 }, ctx(2, {}));
    expect(c.value()).toBe(3);
    c = applyWrite("pncounter", c, 10, ctx(3, {}, "eu-west"));
    expect(c.value()).toBe(10);
    for (const bad of [
      { op: "increment", by: -1 },
      { op: "increment", by: Number.NaN },
      "7",
      { op: "add", element: 1 },
    ]) {
      expect(() => applyWrite("pncounter", c, bad, ctx(4, {}))).toThrow(InvalidInputError);
    }
  });

  it("orset add tags are dots of the writer's counter in this write's clock (collectable tombstones)", () => {
    const clock = { "us-east": 7, "eu-west": 2 };
    let s = applyWrite("orset", emptyCrdt("orset"), ["a", "b"], ctx(1, clock)) as ORSet<unknown>;
    s = applyWrite(
      "orset",
      s,
      { op: "remove", element: "a" },
      ctx(2, { ...clock, "us-east": 8 }),
    ) as ORSet<unknown>;
    const state = s.toJSON().state as { adds: Array<[unknown, string[]]> };
    const dots = state.adds.flatMap(([, tags]) => tags.map(parseDot));
    expect(dots).toEqual([
      { node: "us-east", counter: 7 },
      { node: "us-east", counter: 7 },
    ]);
    // Once every region's clock has passed the remove, its tombstone goes.
    const collected = s.collect(new Map([["us-east", 8]]));
    expect(collected.tagCount()).toEqual({ adds: 1, removes: 0 });
    expect(collected.value()).toEqual(["b"]);
    // Without a counter for the writer, the tag stays opaque (never collected).
    const opaque = applyWrite("orset", emptyCrdt("orset"), { op: "add", element: "x" }, ctx(1, {}));
    expect(JSON.stringify(opaque.toJSON())).toContain('"us-east.1"');
  });

  it("orset adds, removes and sets membership exactly", () => {
    let s: AnyCrdt = emptyCrdt("orset");
    s = applyWrite("orset", s, { op: "add", element: "AAPL" }, ctx(1, {}));
    s = applyWrite("orset", s, { op: "add", element: "MSFT" }, ctx(2, {}));
    s = applyWrite("orset", s, { op: "remove", element: "AAPL" }, ctx(3, {}));
    expect(s.value()).toEqual(["MSFT"]);
    s = applyWrite("orset", s, ["TSLA", "AAPL"], ctx(4, {}));
    expect(s.value()).toEqual(["AAPL", "TSLA"]);
    expect(() => applyWrite("orset", s, { op: "add" }, ctx(5, {}))).toThrow(InvalidInputError);
    expect(() => applyWrite("orset", s, 3, ctx(5, {}))).toThrow(InvalidInputError);
  });

  it("mvregister: a write stamped with a dominating clock replaces every sibling", () => {
    const siblings = MVRegister.empty<string>()
      .set("x", VectorClock.from({ a: 1 }))
      .merge(MVRegister.empty<string>().set("y", VectorClock.from({ b: 1 })));
    expect(siblings.value()).toHaveLength(2);
    const w = applyWrite("mvregister", siblings, "z", ctx(1, { a: 1, b: 1, "us-east": 1 }));
    expect(w.value()).toEqual(["z"]);
  });

  it("refuses a policy type that differs from the stored type", () => {
    expect(() => applyWrite("pncounter", emptyCrdt("lww"), 1, ctx(1, {}))).toThrow(InvalidInputError);
  });

  it("isCrdtOp recognises only the four ops", () => {
    expect(isCrdtOp({ op: "add", element: 1 })).toBe(true);
    expect(isCrdtOp({ op: "set" })).toBe(false);
    expect(isCrdtOp([])).toBe(false);
    expect(isCrdtOp(null)).toBe(false);
  });
});

describe("restoreValue (rollback) gives the old value as a new, inflating state", () => {
  it("lww: old value with a newer timestamp, so it wins over the current one", () => {
    const old = LWWRegister.empty<string>().set("old", { wallMs: 1, logical: 0, node: "a" });
    const cur = old.set("new", { wallMs: 2, logical: 0, node: "a" });
    const { crdt } = restoreValue(cur, old, ctx(3, { a: 3 }));
    expect(crdt.value()).toBe("old");
    expect((crdt as LWWRegister<string>).merge(cur).value()).toBe("old");
  });

  it("pncounter: compensating delta keeps concurrent increments from elsewhere", () => {
    const old = PNCounter.empty().increment("a", 10);
    const cur = old.increment("a", 5);
    const { crdt } = restoreValue(cur, old, ctx(3, {}, "a"));
    expect(crdt.value()).toBe(10);
    const concurrent = cur.increment("b", 1);
    expect((crdt as PNCounter).merge(concurrent).value()).toBe(11);
  });

  it("orset: removes what was added and re-adds what was removed", () => {
    const old = ORSet.empty<string>().add("x", "t1").add("y", "t2");
    const cur = old.remove("x").add("z", "t3");
    const { crdt } = restoreValue(cur, old, ctx(3, {}));
    expect(crdt.value()).toEqual(["x", "y"]);
  });

  it("mvregister: several siblings come back as siblings that dominate everything seen", () => {
    const old = MVRegister.empty<string>()
      .set("x", VectorClock.from({ a: 1 }))
      .merge(MVRegister.empty<string>().set("y", VectorClock.from({ b: 1 })));
    const cur = old.set("z", VectorClock.from({ a: 1, b: 1, c: 1 }));
    const { crdt, clock } = restoreValue(cur, old, ctx(3, { a: 1, b: 1, c: 2 }, "c"));
    expect(crdt.value()).toEqual(["x", "y"]);
    expect(clock.dominates(VectorClock.from({ a: 1, b: 1, c: 2 }))).toBe(true);
    // The next ordinary write (clock = entry clock + 1) supersedes both restored siblings.
    const next = (crdt as MVRegister<string>).set("w", clock.increment("c"));
    expect(next.value()).toEqual(["w"]);
  });

  it("refuses to restore an empty LWW state", () => {
    expect(() => restoreValue(LWWRegister.empty(), LWWRegister.empty(), ctx(1, {}))).toThrow(
      InvalidInputError,
    );
  });
});
