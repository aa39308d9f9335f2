// Hand-made histories: linearizable ones pass with a valid witness, non-linearizable ones fail with the
// smallest failing prefix.
import { describe, expect, it } from "vitest";
import { checkLinearizability } from "./check.js";
import type { Operation } from "./history.js";
import { KvModel } from "./kv-model.js";
import { cas, op, r, txn, w } from "./test-support.js";

/** Replays the witness sequentially: every output must be what the model gives. */
function replayWitness(history: Operation[], witness: number[], keys: string[]): boolean {
  const model = new KvModel(keys);
  let s = model.init();
  for (const id of witness) {
    const o = history.find((x) => x.id === id)!;
    const next = model.step(s, o.input, o.output);
    if (!next) return false;
    s = next;
  }
  return true;
}

describe("linearizable histories", () => {
  it("accepts a read concurrent with a write returning either value", () => {
    for (const seen of [undefined, 1]) {
      const h = [w("a", 0, 10, "x", 1), r("b", 5, 15, "x", seen)];
      expect(checkLinearizability(h).ok).toBe(true);
    }
  });

  it("accepts a read that sees a write whose response has not arrived yet, and gives a witness", () => {
    const h = [
      w("a", 0, 100, "x", 1),
      r("b", 10, 20, "x", 1),
      r("c", 30, 40, "x", 1),
      w("d", 50, 60, "x", 2),
    ];
    const res = checkLinearizability(h);
    expect(res.ok).toBe(true);
    const witness = res.partitions[0]!.witness!;
    expect(witness).toHaveLength(4);
    expect(replayWitness(h, witness, ["x"])).toBe(true);
    // real-time order respected: write 1 before both reads, write 2 last
    expect(witness.indexOf(h[0]!.id)).toBeLessThan(witness.indexOf(h[1]!.id));
    expect(witness.at(-1)).toBe(h[3]!.id);
  });

  it("accepts CAS chains and transactions that read and write atomically", () => {
    const h = [
      w("a", 0, 1, "x", 0),
      cas("a", 2, 5, "x", 0, 1, true),
      cas("b", 3, 6, "x", 0, 2, false), // lost the race to a
      txn("c", 7, 9, { x: 1, y: undefined }, { x: 0, y: 1 }),
      r("d", 10, 11, "y", 1),
      r("d", 12, 13, "x", 0),
    ];
    const res = checkLinearizability(h);
    expect(res.ok).toBe(true);
    expect(res.partitions).toHaveLength(1); // the transaction ties x and y together
  });

  it("splits independent keys into separate partitions", () => {
    const h = [w("a", 0, 1, "x", 1), w("b", 0, 1, "y", 2), r("a", 2, 3, "x", 1), r("b", 2, 3, "y", 2)];
    const res = checkLinearizability(h);
    expect(res.ok).toBe(true);
    expect(res.partitions.map((p) => p.keys)).toEqual([["x"], ["y"]]);
  });

  it("lets an operation with an unknown outcome take effect or not", () => {
    const lost = op("a", 0, Number.POSITIVE_INFINITY, { type: "write", key: "x", value: 9 }); // no response
    expect(checkLinearizability([lost, r("b", 5, 6, "x", 9)]).ok).toBe(true);
    expect(checkLinearizability([lost, r("b", 5, 6, "x", undefined)]).ok).toBe(true);
  });
});

describe("non-linearizable histories", () => {
  it("rejects a stale read after a completed write", () => {
    const h = [w("a", 0, 1, "x", 1), w("a", 2, 3, "x", 2), r("b", 4, 5, "x", 1)];
    const res = checkLinearizability(h);
    expect(res.ok).toBe(false);
    expect(res.status).toBe("not-linearizable");
    expect(res.violation!.failingOperation.id).toBe(h[2]!.id);
  });

  it("rejects new-then-old reads during one write (no read may go back in time)", () => {
    const h = [w("a", 0, 100, "x", 1), r("b", 10, 20, "x", 1), r("c", 30, 40, "x", undefined)];
    expect(checkLinearizability(h).ok).toBe(false);
  });

  it("rejects two successful CAS from the same expected value", () => {
    const h = [w("a", 0, 1, "x", 0), cas("b", 2, 5, "x", 0, 1, true), cas("c", 2, 5, "x", 0, 2, true)];
    expect(checkLinearizability(h).ok).toBe(false);
  });

  it("rejects a fractured read of a transaction's writes", () => {
    const h = [
      txn("a", 0, 1, {}, { x: 0, y: 0 }),
      txn("a", 2, 3, { x: 0, y: 0 }, { x: 5, y: 5 }),
      txn("b", 4, 5, { x: 5, y: 0 }, {}), // sees half of the committed transaction
    ];
    expect(checkLinearizability(h).ok).toBe(false);
  });

  it("rejects a read of a value nobody wrote", () => {
    expect(checkLinearizability([w("a", 0, 1, "x", 1), r("b", 0, 2, "x", 7)]).ok).toBe(false);
  });

  it("reports the smallest failing prefix, not the whole history", () => {
    const h = [
      w("a", 0, 1, "x", 1),
      r("b", 2, 3, "x", 1),
      w("a", 4, 5, "x", 2),
      r("b", 6, 7, "x", 1), // the violation: stale after write 2 completed
      w("a", 8, 9, "x", 3),
      r("b", 10, 11, "x", 3),
      w("a", 12, 13, "x", 4),
      r("b", 14, 15, "x", 4),
    ];
    const res = checkLinearizability(h);
    expect(res.ok).toBe(false);
    expect(res.violation!.failingOperation.id).toBe(h[3]!.id);
    expect(res.violation!.prefix.map((o) => o.id)).toEqual(h.slice(0, 4).map((o) => o.id));
  });

  it("reports unknown when the time budget runs out", () => {
    // Many concurrent writes and an impossible read: the search must explore a large space.
    const h = [...Array.from({ length: 12 }, (_, i) => w(`c${i}`, 0, 100, "x", i)), r("z", 0, 100, "x", 99)];
    const res = checkLinearizability(h, { timeBudgetMs: 0, minimize: false });
    expect(res.status).toBe("unknown");
    expect(res.ok).toBe(false);
    expect(checkLinearizability(h, { minimize: false }).status).toBe("not-linearizable");
  });
});
