import { InvalidInputError } from "@meridian/core";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { StrongSession } from "./session.js";
import { checkKey, serialize } from "./validate.js";

const limits = { maxKeyLength: 16, maxValueBytes: 100 };

describe("input validation", () => {
  it("round-trips every JSON value under the cap", () => {
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 3 }), (v) => {
        const json = serialize(v, { maxKeyLength: 16, maxValueBytes: 1 << 20 });
        expect(JSON.parse(json)).toEqual(JSON.parse(JSON.stringify(v)));
      }),
    );
  });

  it("rejects NUL and lone surrogates in keys, strings and object keys (PostgreSQL refuses them)", () => {
    const big = { maxKeyLength: 16, maxValueBytes: 1 << 20 };
    for (const bad of ["a\u0000b", "x\uD800", "\uDC00y"]) {
      expect(() => checkKey(bad, big)).toThrow(InvalidInputError);
      expect(() => serialize({ v: bad }, big)).toThrow(InvalidInputError);
      expect(() => serialize({ [bad]: 1 }, big)).toThrow(InvalidInputError);
    }
    expect(serialize({ s: "\uD83D\uDE00 ok" }, big)).toBe(JSON.stringify({ s: "\uD83D\uDE00 ok" }));
    checkKey("\uD83D\uDE00", big);
  });

  it("rejects what JSON would drop or mangle, and oversized values and keys", () => {
    const circular: Record<string, unknown> = {};
    circular.me = circular;
    for (const bad of [
      undefined,
      () => 1,
      Symbol("s"),
      Number.NaN,
      { x: Number.POSITIVE_INFINITY },
      circular,
      1n,
      "x".repeat(200),
    ]) {
      expect(() => serialize(bad, limits)).toThrow(InvalidInputError);
    }
    for (const key of ["", "k".repeat(17), 5 as unknown])
      expect(() => checkKey(key, limits)).toThrow(InvalidInputError);
    expect(() => checkKey("ok", limits)).not.toThrow();
  });
});

describe("StrongSession", () => {
  it("encode/decode keeps the highest version per key", () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.constantFrom("a", "b", "c|d"), fc.nat(1_000_000))), (events) => {
        const s = new StrongSession();
        for (const [k, v] of events) s.observe(k, v);
        const back = StrongSession.decode(s.encode());
        for (const k of ["a", "b", "c|d"]) {
          const max = Math.max(0, ...events.filter(([x]) => x === k).map(([, v]) => v));
          expect(back.minVersion(k)).toBe(max);
        }
      }),
    );
  });

  it("rejects a malformed token", () => {
    expect(() => StrongSession.decode("not-base64-json")).toThrow(InvalidInputError);
  });
});
