import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { directExceptLedger, type LoadTarget } from "./targets.js";
import type { PlannedOp } from "./workload.js";

function recording(name: string, seen: string[]): LoadTarget {
  return {
    regions: ["a", "b"],
    execute: async (op) => {
      seen.push(`${name}:${op.index}`);
      return undefined;
    },
  };
}

const opArb: fc.Arbitrary<PlannedOp> = fc.record(
  {
    index: fc.nat(),
    region: fc.constantFrom("a", "b"),
    dataClass: fc.constantFrom("important", "cacheable", "critical"),
    kind: fc.constantFrom("get", "set", "incr", "transfer"),
    key: fc.string(),
    ledger: fc.constantFrom("transfer", "deposit"),
  },
  { requiredKeys: ["index", "region", "dataClass", "kind", "key"] },
) as fc.Arbitrary<PlannedOp>;

describe("directExceptLedger", () => {
  it("sends exactly the ledger operations over HTTP and every other one straight to the nodes, once", async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(opArb, { maxLength: 30 }), async (ops) => {
        const seen: string[] = [];
        const target = directExceptLedger(recording("direct", seen), recording("http", seen));
        for (const op of ops) await target.execute(op);
        expect(seen).toEqual(ops.map((op) => `${op.ledger ? "http" : "direct"}:${op.index}`));
      }),
    );
  });
});
