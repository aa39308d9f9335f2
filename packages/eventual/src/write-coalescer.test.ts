// The coalescer and the fold, without Redis: a batch writer that applies each key's folded delta to an
// in-memory state, checked against applying every write one by one in issue order.
import { type AnyCrdt, type CrdtType, emptyCrdt, OverloadedError, VectorClock } from "@meridian/core";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { applyWrite, type WriteContext } from "./crdt-write.js";
import { type BatchWritten, WriteCoalescer } from "./write-coalescer.js";
import { applyFolded, checkWrite, counterParts, foldWrites } from "./write-fold.js";

const TYPES: Record<string, CrdtType> = { c: "pncounter", l: "lww", s: "orset", m: "mvregister" };
const typeOf = (key: string) => TYPES[key[0]!]!;

let tick = 0;
const ctx = (): WriteContext => {
  tick++;
  return {
    region: "r",
    ts: { wallMs: tick, logical: 0, node: "r" },
    clock: VectorClock.from({ r: tick }),
    tag: `t${tick}`,
  };
};

/** Applies a folded delta the way batch-write.ts does: counters by summed parts, the rest in order. */
function applyDelta(type: CrdtType, state: AnyCrdt, values: unknown[]): AnyCrdt {
  const fold = foldWrites(type, values);
  if (fold.kind === "apply") return applyFolded(type, state, fold.values, ctx());
  let out = state;
  for (const part of counterParts(fold)) out = applyWrite(type, out, { op: part.side, by: part.by }, ctx());
  return out;
}

const writeArb = fc.oneof(
  fc.record({
    key: fc.constantFrom("c1", "c2"),
    value: fc.oneof(
      fc.record({ op: fc.constantFrom("increment", "decrement"), by: fc.integer({ min: 0, max: 9 }) }),
      fc.integer({ min: -20, max: 20 }), // a target: set the counter to it
      fc.record({ op: fc.constant("increment"), by: fc.double({ min: 0, max: 2, noNaN: true }) }),
    ),
  }),
  fc.record({ key: fc.constantFrom("l1", "m1"), value: fc.integer() }),
  fc.record({
    key: fc.constant("s1"),
    value: fc.oneof(
      fc.record({ op: fc.constantFrom("add", "remove"), element: fc.constantFrom("a", "b", "c") }),
      fc.subarray(["a", "b", "c"]),
    ),
  }),
);
/** A write, and whether the issuer yields to the event loop before the next one (a batch boundary). */
const scriptArb = fc.array(fc.tuple(writeArb, fc.boolean()), { minLength: 1, maxLength: 40 });
/** Event-loop turns each batch spends in the batch writer (cycled): lets later batches overtake it. */
const turnsArb = fc.array(fc.nat(4), { minLength: 1, maxLength: 8 });

describe("write coalescing", () => {
  it("never loses or reorders a key's writes, batches overlapping in the writer: final values equal one-by-one application", async () => {
    await fc.assert(
      fc.asyncProperty(scriptArb, turnsArb, async (script, turns) => {
        const state = new Map<string, AnyCrdt>();
        const seen: string[] = [];
        const inWriter = new Set<string>();
        let batchNo = 0;
        const coalescer = new WriteCoalescer<AnyCrdt>(async (batch) => {
          // Batches overlap in the writer for a random number of turns; their keys never do.
          for (const key of batch.keys()) {
            expect(inWriter.has(key)).toBe(false);
            inWriter.add(key);
          }
          for (let t = turns[batchNo++ % turns.length]!; t > 0; t--)
            await new Promise((r) => setImmediate(r));
          for (const key of batch.keys()) inWriter.delete(key);
          const results: BatchWritten<AnyCrdt>["results"] = new Map();
          for (const [key, values] of batch) {
            seen.push(...values.map((v) => `${key}:${JSON.stringify(v)}`));
            const next = applyDelta(typeOf(key), state.get(key) ?? emptyCrdt(typeOf(key)), values);
            state.set(key, next);
            results.set(key, { value: next });
          }
          return { results, durable: Promise.resolve() };
        });
        const model = new Map<string, AnyCrdt>();
        const acks: Promise<AnyCrdt>[] = [];
        for (const [{ key, value }, yieldAfter] of script) {
          const type = typeOf(key);
          checkWrite(type, value);
          model.set(key, applyWrite(type, model.get(key) ?? emptyCrdt(type), value, ctx()));
          acks.push(coalescer.write(key, value));
          if (yieldAfter) await new Promise((r) => setImmediate(r));
        }
        const results = await Promise.all(acks);
        // Every write reached the batch writer exactly once, in issue order per key.
        const issued = script.map(([w]) => `${w.key}:${JSON.stringify(w.value)}`);
        for (const key of model.keys()) {
          expect(seen.filter((s) => s.startsWith(`${key}:`))).toEqual(
            issued.filter((s) => s.startsWith(`${key}:`)),
          );
          expect(state.get(key)!.value()).toEqual(model.get(key)!.value());
        }
        // Each caller's result already reflects its own write: the last caller of a key sees the final state.
        const lastOfKey = new Map(script.map(([w], i) => [w.key, i] as const));
        for (const [key, i] of lastOfKey) expect(results[i]!.value()).toEqual(model.get(key)!.value());
        expect(coalescer.pending).toBe(0);
      }),
      { numRuns: 300 },
    );
  });

  it("concurrent writes to one key make one delta; keys of a turn share one batch", async () => {
    const batches: Map<string, unknown[]>[] = [];
    const coalescer = new WriteCoalescer<number>(async (batch) => {
      batches.push(batch);
      return {
        results: new Map([...batch.keys()].map((k) => [k, { value: 1 }])),
        durable: Promise.resolve(),
      };
    });
    await Promise.all([
      coalescer.write("a", 1),
      coalescer.write("a", 2),
      coalescer.write("b", 3),
      coalescer.write("a", 4),
    ]);
    expect(batches).toEqual([
      new Map<string, unknown[]>([
        ["a", [1, 2, 4]],
        ["b", [3]],
      ]),
    ]);
    expect(
      foldWrites("pncounter", [{ op: "increment", by: 2 }, { op: "decrement" }, { op: "increment" }]),
    ).toEqual({ kind: "counter", increment: 3, decrement: 1, writes: 3 });
    expect(foldWrites("lww", [1, 2, 3])).toEqual({ kind: "apply", values: [3] });
  });

  it("a failed batch or a failed publish rejects every caller of that batch, and only them", async () => {
    let mode: "redis" | "kafka" | "ok" = "redis";
    let release!: () => void;
    const gate = new Promise<void>((r) => {
      release = r;
    });
    const coalescer = new WriteCoalescer<number>(async (batch) => {
      if (mode === "redis") {
        await gate;
        throw new Error("redis down");
      }
      const results = new Map([...batch.keys()].map((k) => [k, { value: 7 }]));
      return {
        results,
        durable: mode === "kafka" ? Promise.reject(new Error("kafka down")) : Promise.resolve(),
      };
    });
    const first = [coalescer.write("a", 1), coalescer.write("b", 1)];
    await new Promise((r) => setImmediate(r));
    const second = [coalescer.write("a", 2), coalescer.write("c", 2)]; // waits for the batch ahead
    mode = "kafka";
    release();
    for (const p of first) await expect(p).rejects.toThrow("redis down");
    for (const p of second) await expect(p).rejects.toThrow("kafka down");
    mode = "ok";
    await expect(coalescer.write("a", 3)).resolves.toBe(7);
  });

  it("past maxPending refuses at once with OverloadedError and accepts again once writes settle", async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => {
      release = r;
    });
    const coalescer = new WriteCoalescer<number>(
      async (batch) => ({
        results: new Map([...batch.keys()].map((k) => [k, { value: 1 }])),
        durable: gate,
      }),
      { maxPending: 3 },
    );
    const accepted = [1, 2, 3].map((i) => coalescer.write(`k${i}`, i));
    const refused = coalescer.write("k4", 4);
    await expect(refused).rejects.toBeInstanceOf(OverloadedError);
    await expect(refused).rejects.toMatchObject({ retriable: true });
    release();
    await Promise.all(accepted);
    expect(coalescer.pending).toBe(0);
    await expect(coalescer.write("k5", 5)).resolves.toBe(1);
  });
});
