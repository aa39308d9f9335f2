import { InvalidInputError } from "@meridian/core";
import { describe, expect, it } from "vitest";
import { checkClass, checkOptions } from "./options.js";

describe("client options", () => {
  it("refuses unknown regions, classes and non-positive bounds with InvalidInputError", () => {
    const bad: unknown[] = [
      { region: "mars" },
      { region: "us-east", commandTimeoutMs: 0 },
      { region: "us-east", critical: { pg: "x", leaseMs: -1 } },
      { region: "us-east", critical: { pg: "x", maxDriftRate: 0.7 } },
      { region: "us-east", l1: { secret: {} } },
      { region: "us-east", l1: { critical: { maxBytes: Number.NaN } } },
      { region: "us-east", cacheable: { l1TtlMs: 0 } },
      { region: "us-east", important: { publisher: { publish: async () => {} } } },
    ];
    for (const o of bad) expect(() => checkOptions(o as never), JSON.stringify(o)).toThrow(InvalidInputError);
    expect(() => checkOptions({ region: "eu-west" })).not.toThrow();
  });

  it("knows exactly the three classes", () => {
    for (const c of ["critical", "important", "cacheable"]) expect(checkClass(c)).toBe(c);
    for (const c of ["toString", "__proto__", "", 1, null])
      expect(() => checkClass(c)).toThrow(InvalidInputError);
  });
});
