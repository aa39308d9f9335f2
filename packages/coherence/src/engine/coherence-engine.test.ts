import { InvalidInputError } from "@meridian/core";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { replaceCacheRow } from "../model/mutate.js";
import { CACHE_TABLE } from "../protocol/cache-table.js";
import { DIRECTORY_TABLE } from "../protocol/directory-table.js";
import {
  CacheController,
  type CacheLine,
  DirectoryController,
  type DirLine,
  newDirLine,
  ProtocolError,
} from "../protocol/engine.js";
import { type CoherenceMessage, DIRECTORY, READABLE_STATES } from "../protocol/messages.js";
import { CoherenceEngine, DONE, ISSUED, STALLED } from "./coherence-engine.js";

type Op = { kind: "load" | "store" | "evict"; node: number; line: number };

/**
 * The object controllers the model checker verifies, driven with the engine's delivery policy (one
 * FIFO; a directory request for a busy line goes to the back), as the reference for the engine.
 */
class Reference {
  readonly cc = new CacheController(CACHE_TABLE);
  readonly dc = new DirectoryController(DIRECTORY_TABLE);
  readonly caches: CacheLine<number>[][];
  readonly dirs: DirLine<number>[];
  readonly q: CoherenceMessage<number>[] = [];
  /** The value of the store in flight per "node:line" (a stalled store does not replace it). */
  readonly pending = new Map<string, number>();

  constructor(nodes: number, lines: number) {
    this.caches = Array.from({ length: nodes }, () =>
      Array.from({ length: lines }, () => ({ state: "I" as const, value: undefined })),
    );
    this.dirs = Array.from({ length: lines }, () => newDirLine<number>(0));
  }

  private fx(node: number, line: number) {
    return {
      send: (m: CoherenceMessage<number>) => this.q.push(m),
      readHit: () => {},
      write: () => this.pending.get(`${node}:${line}`) ?? 0,
    };
  }

  /** True when the operation stalled (the line has a transaction in flight at this node). */
  apply(op: Op, value: number): boolean {
    const line = this.caches[op.node]![op.line]!;
    if (op.kind === "evict" && line.state === "I") return false;
    const ev = op.kind === "load" ? "Load" : op.kind === "store" ? "Store" : "Evict";
    const k = `${op.node}:${op.line}`;
    const before = this.pending.get(k);
    if (ev === "Store") this.pending.set(k, value);
    const stalled = this.cc.step(op.node, `L${op.line}`, line, ev, this.fx(op.node, op.line)) === "stalled";
    if (stalled && before !== undefined) this.pending.set(k, before);
    return stalled;
  }

  drain(): void {
    let waited = 0;
    while (this.q.length > 0) {
      const m = this.q.shift()!;
      const l = Number(m.line.slice(1));
      if (m.to === DIRECTORY) {
        if (this.dc.step(this.dirs[l]!, m, this.fx(-1, l)) === "stalled") {
          this.q.push(m);
          if (++waited > this.q.length) throw new Error("reference deadlock");
          continue;
        }
      } else {
        this.cc.step(m.to, m.line, this.caches[m.to]![l]!, m, this.fx(m.to, l));
      }
      waited = 0;
    }
  }
}

const opArb = (nodes: number, lines: number) =>
  fc.record({
    kind: fc.constantFrom<Op["kind"]>("load", "load", "store", "evict"),
    node: fc.integer({ min: 0, max: nodes - 1 }),
    line: fc.integer({ min: 0, max: lines - 1 }),
  });

describe("CoherenceEngine (typed arrays over the compiled tables)", () => {
  it("agrees step by step with the model-checked controllers on random workloads (property)", () => {
    const nodes = 4;
    const lines = 3;
    fc.assert(
      fc.property(
        fc.array(fc.array(opArb(nodes, lines), { minLength: 1, maxLength: 4 }), { maxLength: 40 }),
        (batches) => {
          const e = new CoherenceEngine({ nodes, lines });
          const ref = new Reference(nodes, lines);
          let v = 0;
          for (const batch of batches) {
            // Several operations are issued before the network drains, so requests race at the directory.
            for (const op of batch) {
              const value = ++v;
              const r =
                op.kind === "load"
                  ? e.load(op.node, op.line)
                  : op.kind === "store"
                    ? e.store(op.node, op.line, value)
                    : e.evict(op.node, op.line);
              expect(r === STALLED).toBe(ref.apply(op, value));
              expect(e.inFlight).toBe(ref.q.length);
            }
            e.drain();
            ref.drain();
            compare(e, ref, nodes, lines);
            expect(e.swmrViolation()).toBe(-1);
          }
        },
      ),
      { numRuns: 300 },
    );
  });

  it("a completed load returns the last value stored to the line, from any node", () => {
    const e = new CoherenceEngine({ nodes: 3, lines: 2 });
    expect(e.store(0, 1, 42)).toBe(ISSUED);
    e.drain();
    expect(e.load(2, 1)).toBe(ISSUED);
    e.drain();
    expect(e.lastRead[2 * 2 + 1]).toBe(42);
    expect(e.stateName(0, 1)).toBe("S"); // the dirty owner was recalled and kept a shared copy
    expect(e.load(2, 1)).toBe(DONE); // hit
    expect(e.store(1, 1, 43)).toBe(ISSUED);
    expect(e.store(1, 1, 44)).toBe(STALLED); // its GetM is in flight
    e.drain();
    expect(e.load(0, 1)).toBe(ISSUED);
    e.drain();
    expect(e.lastRead[0 * 2 + 1]).toBe(43);
    expect(e.messagesHandled).toBeGreaterThan(8);
  });

  it("runs the table it is given: a mutant that keeps its copy on Inv breaks SWMR", () => {
    const mutant = replaceCacheRow(
      CACHE_TABLE,
      { state: "S", event: "Inv" },
      { actions: ["send:InvAck"], next: "S" },
    );
    const e = new CoherenceEngine({ nodes: 2, lines: 1, cacheTable: mutant });
    e.load(0, 0);
    e.drain();
    e.load(1, 0);
    e.drain();
    e.store(1, 0, 7);
    e.drain();
    expect(e.swmrViolation()).toBe(0);
  });

  it("raises ProtocolError for a pair the table has no row for", () => {
    const withoutRow = CACHE_TABLE.filter((r) => !(r.state === "I" && r.event === "Load"));
    const e = new CoherenceEngine({ nodes: 1, lines: 1, cacheTable: withoutRow });
    expect(() => e.load(0, 0)).toThrow(ProtocolError);
  });

  it("rejects bad shapes and out-of-range nodes and lines with InvalidInputError", () => {
    expect(() => new CoherenceEngine({ nodes: 33, lines: 1 })).toThrow(InvalidInputError);
    expect(() => new CoherenceEngine({ nodes: 2, lines: 0 })).toThrow(InvalidInputError);
    const e = new CoherenceEngine({ nodes: 2, lines: 2 });
    expect(() => e.load(2, 0)).toThrow(InvalidInputError);
    expect(() => e.store(0, -1, 1)).toThrow(InvalidInputError);
  });

  it("keeps FIFO order when its ring grows", () => {
    const e = new CoherenceEngine({ nodes: 32, lines: 64, queueCapacity: 16 });
    for (let l = 0; l < 64; l++) for (let n = 0; n < 32; n++) e.load(n, l);
    expect(e.inFlight).toBe(32 * 64);
    e.drain();
    for (let l = 0; l < 64; l++) for (let n = 0; n < 32; n++) expect(e.stateName(n, l)).toBe("S");
  });
});

function compare(e: CoherenceEngine, ref: Reference, nodes: number, lines: number): void {
  for (let n = 0; n < nodes; n++) {
    for (let l = 0; l < lines; l++) {
      const r = ref.caches[n]![l]!;
      expect(e.stateName(n, l)).toBe(r.state);
      if (READABLE_STATES.has(r.state)) expect(e.cacheValue[n * lines + l]).toBe(r.value);
    }
  }
  for (let l = 0; l < lines; l++) {
    const d = ref.dirs[l]!;
    expect(e.dirStateName(l)).toBe(d.state);
    expect(e.dirOwner[l]).toBe(d.owner);
    expect(e.dirHome[l]).toBe(d.home);
    let mask = 0;
    for (const s of d.sharers) mask |= 1 << s;
    expect(e.dirSharers[l]).toBe(mask >>> 0);
  }
}
