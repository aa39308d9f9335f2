import { describe, expect, it } from "vitest";
import { VectorClock } from "../clocks/vector-clock.js";
import { InvalidInputError } from "../errors.js";
import { crdtFromJSON, emptyCrdt, mergeCrdts } from "./from-json.js";
import { LWWRegister } from "./lww-register.js";
import { MVRegister } from "./mv-register.js";
import { ORSet } from "./or-set.js";
import { PNCounter } from "./pn-counter.js";

const ts = (wallMs: number, logical: number, node: string) => ({ wallMs, logical, node });

describe("LWWRegister", () => {
  it("keeps the greater HLC and breaks ties by node id", () => {
    const a = LWWRegister.empty<number>().set(1, ts(10, 0, "us-east"));
    const b = LWWRegister.empty<number>().set(2, ts(10, 0, "eu-west"));
    expect(a.merge(b).value()).toBe(1);
    expect(b.merge(a).value()).toBe(1);
    expect(a.set(3, ts(9, 5, "zz")).value()).toBe(1);
    expect(a.set(3, ts(10, 1, "aa")).value()).toBe(3);
    expect(LWWRegister.empty<number>().value()).toBeUndefined();
  });

  it("rejects values JSON cannot carry", () => {
    expect(() => LWWRegister.empty<unknown>().set(() => 1, ts(1, 0, "a"))).toThrow(InvalidInputError);
    expect(() => LWWRegister.empty<unknown>().set(undefined, ts(1, 0, "a"))).toThrow(InvalidInputError);
  });
});

describe("PNCounter", () => {
  it("adds increments and subtracts decrements across nodes", () => {
    const a = PNCounter.empty().increment("us-east", 5).decrement("us-east", 2);
    const b = PNCounter.empty().increment("eu-west", 10);
    expect(a.merge(b).value()).toBe(13);
    expect(a.merge(b).merge(a).value()).toBe(13);
    expect(() => a.increment("x", -1)).toThrow(InvalidInputError);
    expect(() => a.decrement("x", Number.NaN)).toThrow(InvalidInputError);
    expect(() => a.increment("", 1)).toThrow(InvalidInputError);
  });
});

describe("ORSet", () => {
  it("is add-wins: a concurrent add with a fresh tag survives a remove", () => {
    const base = ORSet.empty<string>().add("AAPL", "us-east:1");
    const removed = base.remove("AAPL");
    const readded = base.add("AAPL", "eu-west:1");
    expect(removed.value()).toEqual([]);
    expect(removed.merge(readded).value()).toEqual(["AAPL"]);
    expect(readded.merge(removed).has("AAPL")).toBe(true);
  });

  it("compares elements by canonical JSON and refuses a reused removed tag", () => {
    const s = ORSet.empty<Record<string, number>>().add({ a: 1, b: 2 }, "t1");
    expect(s.has({ b: 2, a: 1 })).toBe(true);
    const r = s.remove({ b: 2, a: 1 });
    expect(r.value()).toEqual([]);
    expect(() => r.add({ a: 1, b: 2 }, "t1")).toThrow(InvalidInputError);
    expect(() => r.add({ a: 1 }, "")).toThrow(InvalidInputError);
  });
});

describe("MVRegister", () => {
  it("keeps concurrent siblings and drops dominated ones", () => {
    const c1 = VectorClock.empty().increment("us-east");
    const c2 = VectorClock.empty().increment("eu-west");
    const a = MVRegister.empty<string>().set("x", c1);
    const b = MVRegister.empty<string>().set("y", c2);
    const both = a.merge(b);
    expect(both.value().sort()).toEqual(["x", "y"]);
    const resolved = both.set("z", both.clock().increment("ap-south"));
    expect(resolved.value()).toEqual(["z"]);
    expect(resolved.merge(a).merge(b).value()).toEqual(["z"]);
  });
});

describe("crdtFromJSON", () => {
  it("round-trips each type, also from a JSON string", () => {
    const values = [
      LWWRegister.empty<number>().set(7, ts(1, 2, "a")),
      PNCounter.empty().increment("a", 3),
      ORSet.empty<string>().add("k", "t").add("j", "u").remove("j"),
      MVRegister.empty<number>().set(1, VectorClock.from({ a: 1 })),
      emptyCrdt("lww"),
    ];
    for (const c of values) {
      expect(crdtFromJSON(c.toJSON()).equals(c)).toBe(true);
      expect(crdtFromJSON(JSON.stringify(c)).equals(c)).toBe(true);
    }
  });

  it("rejects unknown types and malformed state with InvalidInputError", () => {
    const bad: unknown[] = [
      null,
      42,
      "not json",
      { type: "gcounter", state: {} },
      { type: "lww" },
      { type: "lww", state: { value: 1 } },
      { type: "lww", state: { value: 1, ts: { wallMs: -1, logical: 0, node: "a" } } },
      { type: "pncounter", state: { p: { a: -1 }, n: {} } },
      { type: "pncounter", state: { p: { a: "1" }, n: {} } },
      { type: "pncounter", state: [] },
      { type: "orset", state: { adds: "x", removes: [] } },
      { type: "orset", state: { adds: [["a", [1]]], removes: [] } },
      { type: "orset", state: { adds: [["a"]], removes: [] } },
      { type: "mvregister", state: {} },
      { type: "mvregister", state: [{ value: 1, clock: { a: 1.5 } }] },
      { type: "mvregister", state: [{ clock: { a: 1 } }] },
    ];
    for (const json of bad) expect(() => crdtFromJSON(json), JSON.stringify(json)).toThrow(InvalidInputError);
  });

  it("mergeCrdts refuses mixed types", () => {
    expect(() => mergeCrdts(emptyCrdt("lww"), emptyCrdt("orset"))).toThrow(InvalidInputError);
    expect(mergeCrdts(PNCounter.empty().increment("a"), PNCounter.empty().increment("b")).value()).toBe(2);
  });
});
