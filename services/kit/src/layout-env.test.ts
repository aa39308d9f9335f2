import { defaultRegionDbs, InvalidInputError } from "@meridian/core";
import { describe, expect, it } from "vitest";
import { layoutFromEnv, parseRedisDbs, parseRedisUrls } from "./env.js";
import { regionRedisUrl, resolveLayout } from "./layout.js";

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

  it("gives a region its own Redis server when MERIDIAN_REDIS_URLS names one", () => {
    const urls = parseRedisUrls("us-east=redis://10.0.0.1:6379, eu-west=redis://r-eu:6380/0");
    expect(urls).toEqual({ "us-east": "redis://10.0.0.1:6379", "eu-west": "redis://r-eu:6380/0" });
    const l = resolveLayout({ regions: ["us-east", "eu-west", "ap-south"], redisUrls: urls! });
    expect(regionRedisUrl(l, "eu-west", "redis://shared:6379")).toBe("redis://r-eu:6380/0");
    expect(regionRedisUrl(l, "ap-south", "redis://shared:6379")).toBe("redis://shared:6379");
    expect(layoutFromEnv({ MERIDIAN_REDIS_URLS: "us-east=redis://h:1" }).redisUrls).toEqual({
      "us-east": "redis://h:1",
    });
    expect(() => parseRedisUrls("us-east")).toThrow(InvalidInputError);
    expect(() => resolveLayout({ regions: ["a", "b"], redisUrls: { c: "redis://h:1" } })).toThrow(
      InvalidInputError,
    );
    expect(() => resolveLayout({ regions: ["a", "b"], redisDbs: { c: 3 } })).toThrow(InvalidInputError);
    expect(() => resolveLayout({ regions: ["a", "b"], redisUrls: { a: "http://h:1" } })).toThrow(
      InvalidInputError,
    );
  });
});
