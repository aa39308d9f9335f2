import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { InvalidInputError } from "./errors.js";
import { checkJsonDepth, checkJsonValue, DEFAULT_JSON_LIMITS, parseJsonBounded } from "./json-limits.js";

const limits = {
  ...DEFAULT_JSON_LIMITS,
  maxDepth: 8,
  maxStringLength: 20,
  maxArrayLength: 5,
  maxObjectKeys: 5,
  maxKeyLength: 10,
};

function nested(depth: number): string {
  return `${"[".repeat(depth)}${"]".repeat(depth)}`;
}

describe("parseJsonBounded", () => {
  it("refuses 100,000 levels of nesting with a typed error naming the field, never a RangeError", () => {
    for (const text of [nested(100_000), `{"a":${'{"b":'.repeat(100_000)}1${"}".repeat(100_000)}}`]) {
      const err = (() => {
        try {
          parseJsonBounded(text, "value");
        } catch (e) {
          return e;
        }
      })();
      expect(err).toBeInstanceOf(InvalidInputError);
      expect((err as InvalidInputError).details).toMatchObject({ field: "value", limit: "maxDepth" });
    }
  });

  it("depth scan agrees with the parsed value's real depth, brackets inside strings ignored", () => {
    const json = fc.letrec((tie) => ({
      v: fc.oneof(
        { depthSize: "small" },
        fc.string(),
        fc.integer(),
        fc.array(tie("v"), { maxLength: 3 }),
        fc.dictionary(fc.string({ maxLength: 3 }), tie("v"), { maxKeys: 3 }),
      ),
    })).v;
    const depthOf = (v: unknown): number =>
      v !== null && typeof v === "object" ? 1 + Math.max(0, ...Object.values(v).map(depthOf)) : 0;
    fc.assert(
      fc.property(json, fc.integer({ min: 0, max: 6 }), (v, max) => {
        const text = JSON.stringify(v);
        const ok = depthOf(v) <= max;
        let scanOk = true;
        try {
          checkJsonDepth(text, max, "f");
        } catch {
          scanOk = false;
        }
        expect(scanOk).toBe(ok);
      }),
    );
  });

  it("names the offending path for each size limit", () => {
    const cases: [unknown, string, string][] = [
      [{ a: "x".repeat(21) }, "body.a", "maxStringLength"],
      [{ list: [1, 2, 3, 4, 5, 6] }, "body.list", "maxArrayLength"],
      [{ a: 1, b: 2, c: 3, d: 4, e: 5, f: 6 }, "body", "maxObjectKeys"],
      [{ ["k".repeat(11)]: 1 }, "body.kkkkkkkkkkk…", "maxKeyLength"],
      [{ a: [{ b: ["x".repeat(30)] }] }, "body.a[0].b[0]", "maxStringLength"],
    ];
    for (const [value, path, limit] of cases) {
      expect(() => checkJsonValue(value, "body", limits)).toThrow(InvalidInputError);
      try {
        checkJsonValue(value, "body", limits);
      } catch (e) {
        expect((e as InvalidInputError).details).toMatchObject({ field: path, limit });
      }
    }
  });

  it("accepts what is within the limits and returns the parsed value", () => {
    expect(parseJsonBounded('{"a":[1,"two",{"b":null}]}', "body", limits)).toEqual({
      a: [1, "two", { b: null }],
    });
    expect(() => parseJsonBounded("{nope", "body")).toThrow(/body is not valid JSON/);
  });
});
