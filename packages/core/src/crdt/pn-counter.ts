import { InvalidInputError } from "../errors.js";
import { isPlainRecord } from "./canonical-json.js";
import type { Crdt, CrdtJson } from "./types.js";

type Counts = ReadonlyMap<string, number>;

function checkNode(node: unknown): asserts node is string {
  if (typeof node !== "string" || node.length === 0) {
    throw new InvalidInputError("PNCounter node id must be a non-empty string", { node });
  }
}

function checkAmount(by: unknown, what: string): asserts by is number {
  if (typeof by !== "number" || !Number.isFinite(by) || by < 0) {
    throw new InvalidInputError(`PNCounter ${what} must be a finite number >= 0`, { by });
  }
}

function joinCounts(a: Counts, b: Counts): Map<string, number> {
  const out = new Map(a);
  for (const [node, n] of b) if (n > (out.get(node) ?? 0)) out.set(node, n);
  return out;
}

function sameCounts(a: Counts, b: Counts): boolean {
  if (a.size !== b.size) return false;
  for (const [node, n] of a) if (b.get(node) !== n) return false;
  return true;
}

function sum(counts: Counts): number {
  // Sorted order so every replica with the same state computes the identical float sum.
  let total = 0;
  for (const node of [...counts.keys()].sort()) total += counts.get(node)!;
  return total;
}

function countsToJson(counts: Counts): Record<string, number> {
  const out: Record<string, number> = {};
  for (const node of [...counts.keys()].sort()) out[node] = counts.get(node)!;
  return out;
}

function countsFromJson(raw: unknown, what: string): Map<string, number> {
  if (!isPlainRecord(raw)) throw new InvalidInputError(`malformed PNCounter ${what} map`, { raw });
  const out = new Map<string, number>();
  for (const [node, n] of Object.entries(raw)) {
    checkNode(node);
    checkAmount(n, `${what} count`);
    if (n > 0) out.set(node, n);
  }
  return out;
}

/**
 * Positive-negative counter: per node a grow-only count of increments and one of decrements;
 * merge takes the per-node maximum. Each node must only bump its own entries.
 */
export class PNCounter implements Crdt<number> {
  readonly type = "pncounter" as const;

  private constructor(
    private readonly p: Counts,
    private readonly n: Counts,
  ) {}

  static empty(): PNCounter {
    return new PNCounter(new Map(), new Map());
  }

  increment(node: string, by = 1): PNCounter {
    checkNode(node);
    checkAmount(by, "increment");
    if (by === 0) return this;
    const p = new Map(this.p);
    p.set(node, (p.get(node) ?? 0) + by);
    return new PNCounter(p, this.n);
  }

  decrement(node: string, by = 1): PNCounter {
    checkNode(node);
    checkAmount(by, "decrement");
    if (by === 0) return this;
    const n = new Map(this.n);
    n.set(node, (n.get(node) ?? 0) + by);
    return new PNCounter(this.p, n);
  }

  value(): number {
    return sum(this.p) - sum(this.n);
  }

  merge(other: this): this {
    if (!(other instanceof PNCounter))
      throw new InvalidInputError("cannot merge PNCounter with another type");
    return new PNCounter(joinCounts(this.p, other.p), joinCounts(this.n, other.n)) as this;
  }

  equals(other: unknown): boolean {
    return other instanceof PNCounter && sameCounts(this.p, other.p) && sameCounts(this.n, other.n);
  }

  toJSON(): CrdtJson {
    return { type: this.type, state: { p: countsToJson(this.p), n: countsToJson(this.n) } };
  }

  static fromState(state: unknown): PNCounter {
    if (!isPlainRecord(state)) throw new InvalidInputError("malformed PNCounter state", { state });
    return new PNCounter(countsFromJson(state.p, "p"), countsFromJson(state.n, "n"));
  }
}
