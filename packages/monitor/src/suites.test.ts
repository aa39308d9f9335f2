import { describe, expect, it } from "vitest";
import type { KeyValueTarget } from "./probes.js";
import { runConsistencySuites } from "./suites.js";
import { InMemoryStrong } from "./testing.js";

const REGIONS = ["r1", "r2", "r3"];

/** A cache that is never invalidated: reads keep returning the first value written (the injected bug). */
function neverInvalidated(): KeyValueTarget {
  const first = new Map<string, unknown>();
  return {
    regions: () => REGIONS,
    async read(key) {
      await new Promise((r) => setImmediate(r));
      return first.has(key) ? { value: first.get(key), version: 1 } : { value: null, version: null };
    },
    async write(key, value) {
      await new Promise((r) => setImmediate(r));
      if (!first.has(key)) first.set(key, value);
      return { version: 1 };
    },
  };
}

describe("consistency suites", () => {
  it("a correct store: race and stress histories are linearizable", async () => {
    const report = await runConsistencySuites(new InMemoryStrong(REGIONS), {
      opsPerClient: 30,
      stressDurationMs: 200,
    });
    expect(report.suites.map((s) => [s.name, s.linearizable])).toEqual([
      ["race", true],
      ["stress", true],
    ]);
    expect(report.violations).toEqual([]);
    expect(report.passed).toBe(true);
  });

  it("a cache that is never invalidated: the checker reports the violation with a counterexample", async () => {
    const report = await runConsistencySuites(neverInvalidated(), { suites: ["race"], opsPerClient: 40 });
    expect(report.suites[0]!.linearizable).toBe(false);
    expect(report.passed).toBe(false);
    expect(report.violations[0]!.kind).toBe("linearizability");
    expect(String(report.violations[0]!.details!.counterexample)).toContain("cannot be linearized");
  });
});
