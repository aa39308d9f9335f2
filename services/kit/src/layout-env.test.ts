import { defaultRegionDbs, InvalidInputError } from "@meridian/core";
import { describe, expect, it } from "vitest";
import { layoutFromEnv, parseRedisDbs } from "./env.js";
import { resolveLayout } from "./layout.js";

describe("layout and environment", () => {
  it("gives each of the five regions its own Redis DB and namespaced key prefix", () => {
    const l = resolveLayout({ namespace: "t-1" });
    expect(l.regions).toHaveLength(5);
    expect(new Set(Object.values(l.redisDbs)).size).toBe(5);
    expect(l.redisDbs["us-east"]).toBe(1);
    expect(l.redisDbs).toEqual(defaultRegionDbs()); // the one region → DB mapping, shared with the strong tier
    expect(l.keyPrefix).toBe("meridian:t-1:");
    expect(resolveLayout().keyPrefix).toBe("meridian:default:");
  });

  it("rejects bad layouts", () => {
    expect(() => resolveLayout({ regions: ["a"] })).toThrow(InvalidInputError);
    expect(() => resolveLayout({ regions: ["a", "a"] })).toThrow(InvalidInputError);
    expect(() => resolveLayout({ namespace: "bad ns" })).toThrow(InvalidInputError);
    expect(() => resolveLayout({ redisDbs: { "us-east": 16 } })).toThrow(InvalidInputError);
  });

  it("parses MERIDIAN_* variables", () => {
    expect(parseRedisDbs("us-east=7, eu-west=8")).toEqual({ "us-east": 7, "eu-west": 8 });
    expect(parseRedisDbs('{"us-east":3}')).toEqual({ "us-east": 3 });
    expect(() => parseRedisDbs("us-east")).toThrow(InvalidInputError);
    expect(layoutFromEnv({ MERIDIAN_REGIONS: "a, b", MERIDIAN_NAMESPACE: "x" })).toEqual({
      regions: ["a", "b"],
      namespace: "x",
    });
  });
});
