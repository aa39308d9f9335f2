// fast-check properties of the checker:
//  1. a history produced by a sequential execution, stretched by random call/return delays, is linearizable
//     (and the witness replays);
//  2. corrupting one read of such a history to a value never written makes it non-linearizable;
//  3. on small random histories the checker agrees with a brute-force search over all orders.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { checkLinearizability } from "./check.js";
import { type Json, type KvInput, type KvOutput, keysOf, type Operation } from "./history.js";
import { canonical, KvModel } from "./kv-model.js";
import { searchLinearization } from "./wing-gong.js";

const KEYS = ["a", "b", "c"];
const value = fc.integer({ min: 0, max: 3 });
const key = fc.constantFrom(...KEYS);

type Intent =
  | { type: "read"; key: string }
  | { type: "write"; key: string; value: number }
  | { type: "cas"; key: string; expected: number | undefined; value: number }
  | { type: "txn"; keys: string[]; delta: number };

const intent: fc.Arbitrary<Intent> = fc.oneof(
  fc.record({ type: fc.constant("read" as const), key }),
  fc.record({ type: fc.constant("write" as const), key, value }),
  fc.record({
    type: fc.constant("cas" as const),
    key,
    expected: fc.option(value, { nil: undefined }),
    value,
  }),
  fc.record({
    type: fc.constant("txn" as const),
    keys: fc.uniqueArray(key, { minLength: 1, maxLength: 3 }),
    delta: fc.integer({ min: 1, max: 2 }),
  }),
);

/** Runs intents one after another against a plain map; op i takes effect at time 10*i. */
function sequentialHistory(intents: Intent[], delays: [number, number][]): Operation[] {
  const store = new Map<string, number>();
  return intents.map((it, i) => {
    const t = 10 * i + 5;
    const [before, after] = delays[i]!;
    let input: KvInput;
    let output: KvOutput;
    switch (it.type) {
      case "read":
        input = it;
        output = { type: "read", value: store.get(it.key) };
        break;
      case "write":
        input = it;
        store.set(it.key, it.value);
        output = { type: "write" };
        break;
      case "cas": {
        input = it;
        const ok = store.get(it.key) === it.expected;
        if (ok) store.set(it.key, it.value);
        output = { type: "cas", ok };
        break;
      }
      case "txn": {
        // transfer-like: read every key, add delta to each (absent counts as 0)
        const reads: Record<string, Json | undefined> = {};
        const writes: Record<string, Json> = {};
        for (const k of it.keys) {
          reads[k] = store.get(k);
          writes[k] = (store.get(k) ?? 0) + it.delta;
        }
        for (const k of it.keys) store.set(k, writes[k] as number);
        input = { type: "txn", keys: it.keys };
        output = { type: "txn", reads, writes };
        break;
      }
    }
    return { id: i, client: `c${i % 4}`, input, output, call: t - before, ret: t + after };
  });
}

const delays = (n: number) => fc.array(fc.tuple(fc.nat(40), fc.nat(40)), { minLength: n, maxLength: n });

describe("checker properties", () => {
  it("histories of a sequential execution with random delays are linearizable", () => {
    fc.assert(
      fc.property(
        fc
          .array(intent, { minLength: 1, maxLength: 60 })
          .chain((ops) => fc.tuple(fc.constant(ops), delays(ops.length))),
        ([intents, d]) => {
          const h = sequentialHistory(intents, d);
          const res = checkLinearizability(h);
          expect(res.status).toBe("linearizable");
          // Each partition's witness replays against the model.
          for (const p of res.partitions) {
            const model = new KvModel(p.keys);
            let s = model.init();
            for (const id of p.witness!) {
              const o = h[id]!;
              s = model.step(s, o.input, o.output)!;
              expect(s).toBeDefined();
            }
          }
        },
      ),
      { numRuns: 300 },
    );
  });

  it("a read of a value never written breaks any such history", () => {
    fc.assert(
      fc.property(
        fc
          .array(intent, { minLength: 1, maxLength: 40 })
          .chain((ops) => fc.tuple(fc.constant(ops), delays(ops.length))),
        ([intents, d]) => {
          const h = sequentialHistory(intents, d);
          const readIdx = h.findIndex((o) => o.input.type === "read");
          fc.pre(readIdx >= 0);
          h[readIdx] = { ...h[readIdx]!, output: { type: "read", value: 1_000 } };
          const res = checkLinearizability(h);
          expect(res.status).toBe("not-linearizable");
          expect(res.violation!.prefix.length).toBeGreaterThan(0);
        },
      ),
      { numRuns: 200 },
    );
  });

  it("the reported failing prefix is minimal: one response fewer and it is linearizable", () => {
    fc.assert(
      fc.property(
        fc
          .array(intent, { minLength: 2, maxLength: 40 })
          .chain((ops) => fc.tuple(fc.constant(ops), delays(ops.length))),
        fc.nat(),
        ([intents, d], pick) => {
          const h = sequentialHistory(intents, d);
          const reads = h.filter((o) => o.input.type === "read");
          fc.pre(reads.length > 0);
          const victim = reads[pick % reads.length]!;
          h[victim.id] = { ...victim, output: { type: "read", value: 1_000 } };
          const res = checkLinearizability(h);
          expect(res.status).toBe("not-linearizable");
          const v = res.violation!;
          const part = h.filter((o) => keysOf(o.input).some((k) => v.keys.includes(k)));
          const model = new KvModel(v.keys);
          const prefixUpTo = (t: number) =>
            part
              .filter((o) => o.call <= t)
              .map((o) => (o.ret <= t ? o : { ...o, ret: Number.POSITIVE_INFINITY }));
          const status = (t: number) => searchLinearization(prefixUpTo(t), model, model.init()).status;
          expect(status(v.failingOperation.ret)).toBe("not-linearizable");
          const earlier = part.map((o) => o.ret).filter((t) => t < v.failingOperation.ret);
          if (earlier.length > 0) expect(status(Math.max(...earlier))).toBe("linearizable");
        },
      ),
      { numRuns: 200 },
    );
  });

  it("agrees with brute force on small random histories", () => {
    const small = fc
      .array(
        fc.record({
          input: fc.oneof(
            fc.record({ type: fc.constant("read" as const), key: fc.constantFrom("a", "b") }),
            fc.record({
              type: fc.constant("write" as const),
              key: fc.constantFrom("a", "b"),
              value: fc.integer({ min: 0, max: 2 }),
            }),
            fc.record({
              type: fc.constant("cas" as const),
              key: fc.constantFrom("a", "b"),
              expected: fc.option(fc.integer({ min: 0, max: 2 }), { nil: undefined }),
              value: fc.integer({ min: 0, max: 2 }),
            }),
          ),
          readValue: fc.option(fc.integer({ min: 0, max: 2 }), { nil: undefined }),
          casOk: fc.boolean(),
          call: fc.nat(20),
          len: fc.integer({ min: 1, max: 15 }),
        }),
        { minLength: 1, maxLength: 6 },
      )
      .map((xs) =>
        xs.map((x, i): Operation => {
          const output: KvOutput =
            x.input.type === "read"
              ? { type: "read", value: x.readValue }
              : x.input.type === "cas"
                ? { type: "cas", ok: x.casOk }
                : { type: "write" };
          return { id: i, client: `c${i}`, input: x.input, output, call: x.call, ret: x.call + x.len };
        }),
      );
    fc.assert(
      fc.property(small, (h) => {
        expect(checkLinearizability(h).ok).toBe(bruteForce(h));
      }),
      { numRuns: 2_000 },
    );
  });
});

it("agrees with brute force on small histories with transactions and unknown outcomes", () => {
  const v = fc.option(fc.integer({ min: 0, max: 2 }), { nil: undefined });
  const k = fc.constantFrom("a", "b");
  const opArb = fc.record({
    kind: fc.constantFrom("read", "write", "cas", "txn", "unknown-write"),
    key: k,
    other: k,
    val: fc.integer({ min: 0, max: 2 }),
    rv: v,
    rv2: v,
    ok: fc.boolean(),
    w2: fc.integer({ min: 0, max: 2 }),
    call: fc.nat(20),
    len: fc.integer({ min: 1, max: 15 }),
  });
  const histories = fc.array(opArb, { minLength: 1, maxLength: 6 }).map((xs) =>
    xs.map((x, i): Operation => {
      const base = { id: i, client: `c${i}`, call: x.call, ret: x.call + x.len };
      switch (x.kind) {
        case "read":
          return { ...base, input: { type: "read", key: x.key }, output: { type: "read", value: x.rv } };
        case "write":
          return { ...base, input: { type: "write", key: x.key, value: x.val }, output: { type: "write" } };
        case "unknown-write":
          return {
            ...base,
            ret: Number.POSITIVE_INFINITY,
            input: { type: "write", key: x.key, value: x.val },
          };
        case "cas":
          return {
            ...base,
            input: { type: "cas", key: x.key, expected: x.rv, value: x.val },
            output: { type: "cas", ok: x.ok },
          };
        default: {
          const keys = x.key === x.other ? [x.key] : [x.key, x.other];
          const reads: Record<string, Json | undefined> = { [x.key]: x.rv };
          const writes: Record<string, Json> = { [x.key]: x.val };
          if (keys[1]) {
            reads[x.other] = x.rv2;
            if (x.ok) writes[x.other] = x.w2;
          }
          return { ...base, input: { type: "txn", keys }, output: { type: "txn", reads, writes } };
        }
      }
    }),
  );
  fc.assert(
    fc.property(histories, (h) => {
      expect(checkLinearizability(h).ok).toBe(bruteForce(h));
    }),
    { numRuns: 3_000 },
  );
});

/**
 * Tries every order consistent with real time (a before b when a returned before b was called); an
 * operation without a response (ret = Infinity) may be placed or left out.
 */
function bruteForce(h: Operation[]): boolean {
  const model = new KvModel(["a", "b"]);
  const used = new Array<boolean>(h.length).fill(false);
  const required = h.filter((o) => Number.isFinite(o.ret)).length;
  const go = (s: ReturnType<KvModel["init"]>, placedRequired: number): boolean => {
    if (placedRequired === required) return true;
    for (let i = 0; i < h.length; i++) {
      if (used[i]) continue;
      // i may go next only if no unused op finished before i started
      if (h.some((o, j) => !used[j] && j !== i && o.ret < h[i]!.call)) continue;
      const next = model.step(s, h[i]!.input, h[i]!.output);
      if (!next) continue;
      used[i] = true;
      if (go(next, placedRequired + (Number.isFinite(h[i]!.ret) ? 1 : 0))) return true;
      used[i] = false;
    }
    return false;
  };
  return go(model.init(), 0);
}

// canonical() is what makes {a,b} and {b,a} the same state
it("canonical JSON ignores object key order", () => {
  expect(canonical({ b: 1, a: [{ d: 2, c: 3 }] })).toBe(canonical({ a: [{ c: 3, d: 2 }], b: 1 }));
});
