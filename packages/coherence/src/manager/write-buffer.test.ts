import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { WriteBuffer } from "./write-buffer.js";

function sinkInto(store: Map<string, number>, log: string[][] = []) {
  return async (entries: ReadonlyArray<readonly [string, number]>) => {
    log.push(entries.map(([k]) => k));
    for (const [k, v] of entries) store.set(k, v);
  };
}

describe("WriteBuffer", () => {
  it("coalesces writes to one key into one flushed entry", async () => {
    const store = new Map<string, number>();
    const log: string[][] = [];
    const wb = new WriteBuffer(sinkInto(store, log), { maxEntries: 100, maxAgeMs: 60_000 });
    for (let i = 1; i <= 5; i++) await wb.put("a", i);
    expect(wb.stats.coalesced).toBe(4);
    expect(store.size).toBe(0);
    await wb.close();
    expect(store.get("a")).toBe(5);
    expect(log).toEqual([["a"]]);
  });

  it("flushes when full", async () => {
    const store = new Map<string, number>();
    const wb = new WriteBuffer(sinkInto(store), { maxEntries: 3, maxAgeMs: 60_000 });
    await wb.put("a", 1);
    await wb.put("b", 2);
    expect(store.size).toBe(0);
    await wb.put("c", 3);
    expect([...store.keys()].sort()).toEqual(["a", "b", "c"]);
    expect(wb.size).toBe(0);
    await wb.close();
  });

  it("flushes entries past their age and only those", async () => {
    let now = 1000;
    const store = new Map<string, number>();
    const wb = new WriteBuffer(sinkInto(store), { maxEntries: 100, maxAgeMs: 50, now: () => now });
    await wb.put("old", 1);
    now += 60;
    await wb.put("young", 2);
    await wb.flushOlderThan(50);
    expect(store.has("old")).toBe(true);
    expect(store.has("young")).toBe(false);
    await wb.close();
    expect(store.get("young")).toBe(2);
  });

  it("flushes one key on eviction", async () => {
    const store = new Map<string, number>();
    const wb = new WriteBuffer(sinkInto(store), { maxEntries: 100, maxAgeMs: 60_000 });
    await wb.put("a", 1);
    await wb.put("b", 2);
    await wb.flushKey("a");
    expect([...store.keys()]).toEqual(["a"]);
    await wb.close();
  });

  it("keeps entries whose flush failed and writes them on the next flush", async () => {
    const store = new Map<string, number>();
    let fail = true;
    const wb = new WriteBuffer<number>(
      async (entries) => {
        if (fail) throw new Error("backend down");
        for (const [k, v] of entries) store.set(k, v);
      },
      { maxEntries: 100, maxAgeMs: 60_000 },
    );
    await wb.put("a", 1);
    await expect(wb.flushAll()).rejects.toThrow("backend down");
    expect(wb.peek("a")).toBe(1);
    fail = false;
    await wb.close();
    expect(store.get("a")).toBe(1);
  });

  it("after close, the store holds the last write of every key (property)", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.tuple(fc.constantFrom("a", "b", "c", "d"), fc.integer()), { maxLength: 60 }),
        fc.integer({ min: 1, max: 5 }),
        async (writes, maxEntries) => {
          const store = new Map<string, number>();
          const wb = new WriteBuffer(sinkInto(store), { maxEntries, maxAgeMs: 60_000 });
          const expected = new Map<string, number>();
          for (const [k, v] of writes) {
            expected.set(k, v);
            await wb.put(k, v);
          }
          await wb.close();
          expect(store).toEqual(expected);
        },
      ),
    );
  });
});
