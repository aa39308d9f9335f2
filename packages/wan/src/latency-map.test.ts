import { describe, expect, it } from "vitest";
import { measurePairs } from "./latency-map.js";

describe("measurePairs", () => {
  it("samples every (client, home, op) with the round-trip floor beside it, counting failures apart", async () => {
    const calls: string[] = [];
    const rows = await measurePairs({
      regions: ["a", "b"],
      ops: ["get", "set"],
      samples: 3,
      oneWayMs: (from, to) => (from === "a" && to === "b" ? 10 : 15),
      run: async (op, client, home, i) => {
        calls.push(`${op}:${client}:${home}:${i}`);
        if (op === "set" && client === "b" && i === 0) throw new Error("cut");
      },
    });
    expect(rows).toHaveLength(8);
    expect(calls).toHaveLength(24);
    const ab = rows.find((r) => r.client === "a" && r.home === "b" && r.op === "get")!;
    expect(ab.floorMs).toBe(25);
    expect(ab.samplesMs).toHaveLength(3);
    expect(rows.find((r) => r.client === "a" && r.home === "a")!.floorMs).toBe(0);
    const failed = rows.filter((r) => r.op === "set" && r.client === "b");
    for (const r of failed) expect(r).toMatchObject({ errors: 1 });
    for (const r of failed) expect(r.samplesMs).toHaveLength(2);
  });
});
