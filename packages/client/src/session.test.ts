import { InvalidInputError } from "@meridian/core";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { MeridianSession } from "./session.js";

describe("MeridianSession", () => {
  it("property: a token carries every observed version (critical max, important join)", () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.constantFrom("a", "b", "c"), fc.nat(1000))),
        fc.array(fc.tuple(fc.constantFrom("x", "y"), fc.constantFrom("us-east", "eu-west"), fc.nat(50))),
        (crit, imp) => {
          const s = new MeridianSession();
          for (const [k, v] of crit) s.observeCritical(k, v);
          for (const [k, r, n] of imp) s.observeImportant(k, { [r]: n });
          const t = MeridianSession.decode(s.encode());
          for (const k of ["a", "b", "c"]) {
            const max = Math.max(0, ...crit.filter(([kk]) => kk === k).map(([, v]) => v));
            expect(t.minVersion(k)).toBe(max);
          }
          for (const [k, r, n] of imp) expect(t.minClock(k)!.get(r)).toBeGreaterThanOrEqual(n);
        },
      ),
    );
  });

  it("bad tokens are InvalidInputError", () => {
    for (const bad of ["", "!!", Buffer.from("[1]").toString("base64url"), 42]) {
      expect(() => MeridianSession.decode(bad)).toThrow(InvalidInputError);
    }
    const wrongClock = Buffer.from(
      JSON.stringify({ c: new MeridianSession().critical.encode(), i: [["k", { r: -1 }]] }),
    );
    expect(() => MeridianSession.decode(wrongClock.toString("base64url"))).toThrow(InvalidInputError);
  });
});
