import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { HomePolicy, ownerId } from "./policy.js";

const regions = ["us-east", "us-west", "eu-west", "ap-south", "ap-northeast"];

describe("HomePolicy", () => {
  it("explicit directory beats the longest prefix, which beats the hash", () => {
    const p = new HomePolicy({
      regions,
      directory: { "acct:7": "ap-south" },
      prefixes: { "acct:": "us-west", "acct:eu": "eu-west" },
    });
    expect(p.defaultHome("acct:7")).toBe("ap-south");
    expect(p.defaultHome("acct:7:orders")).toBe("ap-south");
    expect(p.defaultHome("acct:eu42")).toBe("eu-west");
    expect(p.defaultHome("acct:9")).toBe("us-west");
  });

  it("every key of one owner shares a home, and the hash spreads owners over all regions", () => {
    const p = new HomePolicy({ regions });
    fc.assert(
      fc.property(
        fc.string({ minLength: 1, maxLength: 12 }).filter((s) => !s.includes(":")),
        (id) => {
          const home = p.defaultHome(`acct:${id}`);
          expect(regions).toContain(home);
          expect(p.defaultHome(`acct:${id}:orders`)).toBe(home);
        },
      ),
    );
    const homes = new Set(Array.from({ length: 200 }, (_, i) => p.defaultHome(`acct:${i}`)));
    expect(homes.size).toBe(regions.length);
  });

  it("refuses rules naming unknown regions", () => {
    expect(() => new HomePolicy({ regions, prefixes: { "x:": "mars" } })).toThrow(/unknown region/);
  });

  it("owner id is the first two segments", () => {
    expect(ownerId("acct:42:orders:7")).toBe("acct:42");
    expect(ownerId("acct")).toBe("acct");
    expect(ownerId("acct:42")).toBe("acct:42");
  });
});

describe("keyHomedIn", () => {
  it("finds a key of the tag whose default home is the region asked", async () => {
    const { keyHomedIn } = await import("./policy.js");
    const p = new HomePolicy({ regions });
    for (const r of regions) expect(p.defaultHome(keyHomedIn(p, r, "probe"))).toBe(r);
  });
});
