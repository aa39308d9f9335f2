import { describe, expect, it } from "vitest";
import { CACHE_TABLE } from "../protocol/cache-table.js";
import { DIRECTORY_TABLE } from "../protocol/directory-table.js";
import { type ModelConfig, modelCheck } from "./model-checker.js";
import { replaceCacheRow, replaceDirRow } from "./mutate.js";

// Exhaustive BFS over the real protocol tables. The network may delay and reorder every message.
describe("MESI directory protocol model check", () => {
  const configs: [string, ModelConfig][] = [
    ["3 caches, 1 line, 3 stores, non-blocking processors", { caches: 3, lines: 1, maxWrites: 3 }],
    [
      "2 caches, 2 lines, 2 stores, in-order processors",
      { caches: 2, lines: 2, maxWrites: 2, blockingProcessor: true },
    ],
    [
      "2 caches, 2 lines, capacity 1 (misses force evictions), 3 stores",
      { caches: 2, lines: 2, maxWrites: 3, capacity: 1, blockingProcessor: true },
    ],
  ];

  for (const [name, cfg] of configs) {
    it(`holds SWMR, data-value and no deadlock: ${name}`, () => {
      const r = modelCheck(cfg);
      console.log(`model check [${name}]: ${r.statesExplored} states, ${r.transitions} transitions`);
      expect(r.violation).toBeUndefined();
      expect(r.truncated).toBe(false);
      // A sanity floor: a checker that explores almost nothing proves almost nothing.
      expect(r.statesExplored).toBeGreaterThan(10_000);
    }, 300_000); // seconds normally; generous for a loaded CI machine
  }

  const small: ModelConfig = { caches: 2, lines: 1, maxWrites: 2 };

  it("catches a cache that acknowledges Inv but keeps its shared copy (SWMR)", () => {
    const mutant = replaceCacheRow(
      CACHE_TABLE,
      { state: "S", event: "Inv" },
      { actions: ["send:InvAck"], next: "S" },
    );
    const r = modelCheck({ ...small, cacheTable: mutant });
    expect(r.violation?.kind).toBe("SWMR");
    expect(r.violation?.trace.length).toBeGreaterThan(3);
  });

  it("catches a directory that grants M without invalidating the other sharers", () => {
    const mutant = replaceDirRow(
      DIRECTORY_TABLE,
      { state: "S", event: "GetM", guard: "otherSharers" },
      { actions: ["setRequester", "clearSharers", "ownerIsRequester", "send:DataM"], next: "EM_U" },
    );
    const r = modelCheck({ ...small, directoryTable: mutant });
    expect(r.violation?.kind).toBe("SWMR");
  });

  it("catches a directory that drops the owner's dirty data on recall (data-value)", () => {
    const mutant = replaceDirRow(
      DIRECTORY_TABLE,
      { state: "B_RS", event: "OwnerData", guard: "ownerKept" },
      { actions: ["clearOwner", "addRequester", "send:DataS"] },
    );
    const r = modelCheck({ ...small, directoryTable: mutant });
    expect(r.violation?.kind).toBe("data-value");
  });

  it("catches a directory that forgets to send data after the last InvAck (deadlock)", () => {
    const mutant = replaceDirRow(
      DIRECTORY_TABLE,
      { state: "B_A", event: "InvAck", guard: "lastAck" },
      { actions: ["countAck"] },
    );
    const r = modelCheck({ ...small, directoryTable: mutant });
    expect(r.violation?.kind).toBe("deadlock");
  });

  it("catches an evicting owner that ignores a Recall racing its PutM (no transition)", () => {
    const withoutRow = CACHE_TABLE.filter((r) => !(r.state === "MI_A" && r.event === "RecallS"));
    const r = modelCheck({ ...small, cacheTable: withoutRow });
    expect(r.violation?.kind).toBe("protocol-error");
    expect(r.violation?.detail).toContain("MI_A on RecallS");
  });
});
