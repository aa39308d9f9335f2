import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { InvalidInputError } from "./errors.js";
import { parseRegion, REGIONS } from "./region.js";

/** A layout's own region names: the defaults, or custom ones like a test cluster's. */
const knownSets = fc.oneof(
  fc.constant<readonly string[]>(REGIONS),
  fc.uniqueArray(fc.string({ minLength: 1, maxLength: 12 }), { minLength: 1, maxLength: 6 }),
);

describe("parseRegion", () => {
  it("returns every known name unchanged", () => {
    fc.assert(
      fc.property(
        knownSets.chain((known) => fc.tuple(fc.constant(known), fc.constantFrom(...known))),
        ([known, name]) => {
          expect(parseRegion(name, known)).toBe(name);
        },
      ),
    );
  });

  it("refuses anything else with InvalidInputError naming the known regions", () => {
    const input = fc.oneof(fc.string(), fc.anything());
    fc.assert(
      fc.property(knownSets, input, (known, name) => {
        fc.pre(typeof name !== "string" || !known.includes(name));
        let thrown: unknown;
        try {
          parseRegion(name, known, "to");
        } catch (err) {
          thrown = err;
        }
        expect(thrown).toBeInstanceOf(InvalidInputError);
        const err = thrown as InvalidInputError;
        expect(err.details).toMatchObject({ field: "to", regions: [...known] });
        for (const region of known) expect(err.message).toContain(region);
      }),
    );
  });

  it("refuses near misses of the default names", () => {
    for (const region of REGIONS)
      for (const near of [region.toUpperCase(), ` ${region}`, `${region} `, region.slice(1), `${region}-2`])
        expect(() => parseRegion(near, REGIONS)).toThrow(InvalidInputError);
  });
});
