import { describe, expect, it } from "vitest";
import { simpleHistoryChecker } from "./suite-adapter.js";

describe("simpleHistoryChecker (monitor suites' read/write histories)", () => {
  const check = simpleHistoryChecker();

  it("passes a linearizable history and reports per key", () => {
    const out = check([
      { client: 1, key: "x", op: "write", value: 1, call: 0, ret: 1 },
      { client: 2, key: "x", op: "read", value: 1, call: 2, ret: 3 },
      { client: 2, key: "y", op: "read", value: undefined, call: 2, ret: 3 },
    ]);
    expect(out).toEqual({ linearizable: true, failures: [], unknown: [] });
  });

  it("names the key with a stale read and gives its counterexample", () => {
    const out = check([
      { client: 1, key: "x", op: "write", value: 1, call: 0, ret: 1 },
      { client: 1, key: "x", op: "write", value: 2, call: 2, ret: 3 },
      { client: 2, key: "x", op: "read", value: 1, call: 4, ret: 5 },
      { client: 2, key: "y", op: "write", value: 5, call: 4, ret: 5 },
    ]);
    expect(out.linearizable).toBe(false);
    expect(out.failures.map((f) => f.key)).toEqual(["x"]);
    expect(String((out.failures[0]!.counterexample as { text: string }).text)).toMatch(
      /cannot be linearized/,
    );
  });
});
