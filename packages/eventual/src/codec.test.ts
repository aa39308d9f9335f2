import { InvalidInputError, LWWRegister, PNCounter, SerializationError, VectorClock } from "@meridian/core";
import { describe, expect, it } from "vitest";
import { decodeEntry, digestOf, encodeEntry, entryFromUpdate, updateFromEntry } from "./codec.js";
import { entry } from "./test-support.js";
import type { CacheUpdate } from "./types.js";

const good = (): CacheUpdate =>
  updateFromEntry(
    "price:AAPL",
    entry(
      LWWRegister.empty().set(101, { wallMs: 7, logical: 1, node: "us-east" }),
      { "us-east": 3 },
      { wallMs: 7, logical: 1 },
    ),
    "UPDATE",
    "us-east",
    99,
  );

describe("codec", () => {
  it("round-trips an update and an entry", () => {
    const { key, kind, entry: e } = entryFromUpdate(good(), 5);
    expect(key).toBe("price:AAPL");
    expect(kind).toBe("UPDATE");
    expect(e.crdt.value()).toBe(101);
    expect(e.clock.toJSON()).toEqual({ "us-east": 3 });
    expect(e.hlc).toEqual({ wallMs: 7, logical: 1, node: "us-east" });
    const back = decodeEntry(encodeEntry(e));
    expect(digestOf(back)).toBe(digestOf(e));
    expect(back.crdt.equals(e.crdt)).toBe(true);
  });

  it("digest depends on state and clock, not on metadata", () => {
    const a = entry(PNCounter.empty().increment("x", 2), { x: 1 }, { wallMs: 1 });
    const b = { ...a, hlc: { wallMs: 9, logical: 9, node: "y" }, updatedAtMs: 123 };
    expect(digestOf(a)).toBe(digestOf(b));
    expect(digestOf(a)).not.toBe(digestOf({ ...a, clock: VectorClock.from({ x: 2 }) }));
    expect(digestOf(a)).not.toBe(digestOf({ ...a, crdt: PNCounter.empty().increment("x", 3) }));
  });

  it("rejects every malformed field with InvalidInputError", () => {
    const cases: Array<Partial<Record<keyof CacheUpdate, unknown>>> = [
      { key: "" },
      { key: 5 },
      { key: "k".repeat(2000) },
      { kind: "DELETE" },
      { crdtType: "gcounter" },
      { state: "{not json" },
      { state: JSON.stringify({ type: "pncounter", state: { p: {}, n: {} } }) }, // type differs from crdtType
      { state: JSON.stringify({ type: "lww", state: { value: 1 } }) },
      { region: "" },
      { vectorClock: { "us-east": -1 } },
      { vectorClock: [1] },
      { hlcWallMs: -5 },
      { hlcLogical: 1.5 },
      { hlcNode: "" },
    ];
    for (const patch of cases) {
      expect(() => entryFromUpdate({ ...good(), ...patch }, 0), JSON.stringify(patch)).toThrow(
        InvalidInputError,
      );
    }
    expect(() => entryFromUpdate(null, 0)).toThrow(InvalidInputError);
  });

  it("corrupt stored JSON is a SerializationError", () => {
    expect(() => decodeEntry("{")).toThrow(SerializationError);
    expect(() => decodeEntry(JSON.stringify({ crdt: { type: "nope" } }))).toThrow(SerializationError);
  });
});
