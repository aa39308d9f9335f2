import { InvalidInputError, parseRegion } from "@meridian/core";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { parseMovedKey, parseReadOptions } from "./wire.js";

describe("checks of what a peer region sends", () => {
  it("accepts well-formed moves and read options", () => {
    expect(parseMovedKey({ key: "acct:1", value: { b: 1 }, version: 4, epoch: 2 })).toEqual({
      key: "acct:1",
      value: { b: 1 },
      version: 4,
      epoch: 2,
    });
    expect(parseReadOptions({ minVersion: 3 })).toEqual({ minVersion: 3 });
    expect(parseReadOptions(undefined)).toEqual({});
    expect(parseRegion("eu-west", ["eu-west"])).toBe("eu-west");
  });

  it("refuses any other shape with InvalidInputError", () => {
    fc.assert(
      fc.property(fc.anything(), (junk) => {
        const ok = (() => {
          try {
            parseMovedKey(junk);
            return true;
          } catch (e) {
            expect(e).toBeInstanceOf(InvalidInputError);
            return false;
          }
        })();
        if (ok) {
          const j = junk as { key: unknown; epoch: unknown; version: unknown };
          expect(typeof j.key).toBe("string");
          expect(Number.isSafeInteger(j.epoch) && (j.epoch as number) >= 1).toBe(true);
        }
      }),
    );
    expect(() => parseReadOptions({ minVersion: "7" })).toThrow(InvalidInputError);
    expect(() => parseReadOptions({ maxAgeMs: -1 })).toThrow(InvalidInputError);
    expect(() => parseRegion("mars", ["eu-west"])).toThrow(InvalidInputError);
  });
});
