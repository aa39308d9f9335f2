import { InvalidInputError, REGIONS } from "@meridian/core";
import { describe, expect, it } from "vitest";
import { defaultLatencyMatrix, mergeLatency, parseLatencyEnv, validateLatencyMatrix } from "./latency.js";

describe("latency matrix", () => {
  it("defaults are symmetric, realistic one-way delays (30-125 ms) between all five regions", () => {
    const m = defaultLatencyMatrix(REGIONS);
    for (const a of REGIONS)
      for (const b of REGIONS) {
        if (a === b) continue;
        expect(m[a]![b]).toBe(m[b]![a]);
        expect(m[a]![b]).toBeGreaterThanOrEqual(30);
        expect(m[a]![b]).toBeLessThanOrEqual(125);
      }
    expect(m["us-east"]!["eu-west"]).toBeLessThan(m["us-east"]!["ap-south"]!);
  });

  it("overrides: uniform number or partial matrix; rejects negative delays", () => {
    const base = defaultLatencyMatrix(REGIONS);
    expect(mergeLatency(base, REGIONS, 0)["us-east"]!["ap-south"]).toBe(0);
    const partial = mergeLatency(base, REGIONS, { "us-east": { "us-west": 5 } });
    expect(partial["us-east"]!["us-west"]).toBe(5);
    expect(partial["us-west"]!["us-east"]).toBe(32);
    expect(() => mergeLatency(base, REGIONS, { "us-east": { "us-west": -1 } })).toThrow(InvalidInputError);
    expect(() => validateLatencyMatrix({}, REGIONS)).toThrow(InvalidInputError);
  });

  it("refuses an override that names a region outside the matrix, as a row or as a column", () => {
    const base = defaultLatencyMatrix(REGIONS);
    expect(() => mergeLatency(base, REGIONS, { mars: { "us-east": 5 } })).toThrow(InvalidInputError);
    expect(() => mergeLatency(base, REGIONS, { "us-east": { mars: 5 } })).toThrow(InvalidInputError);
    expect(() => mergeLatency(base, REGIONS, { "us-east": { "us-west": 5 } })).not.toThrow();
  });

  it("parses the env form", () => {
    expect(parseLatencyEnv("12")).toBe(12);
    expect(parseLatencyEnv('{"us-east":{"eu-west":1}}')).toEqual({ "us-east": { "eu-west": 1 } });
    expect(parseLatencyEnv(undefined)).toBeUndefined();
    expect(() => parseLatencyEnv("{oops")).toThrow(InvalidInputError);
  });
});
