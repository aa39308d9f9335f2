import { VectorClock } from "../clocks/vector-clock.js";
import { InvalidInputError } from "../errors.js";
import { canonicalJson, isPlainRecord } from "./canonical-json.js";
import type { Crdt, CrdtJson } from "./types.js";

type Sibling<T> = {
  readonly value: T;
  readonly clock: VectorClock;
  readonly json: string;
  readonly key: string;
};

function sibling<T>(value: T, clock: VectorClock): Sibling<T> {
  const json = canonicalJson(value);
  const encoded = clock.encode();
  return { value, clock, json, key: `${encoded}|${json}` };
}

/** Keeps only siblings no other sibling happened-after; dedupes and sorts for a canonical state. */
function maximal<T>(all: readonly Sibling<T>[]): Sibling<T>[] {
  const unique = new Map<string, Sibling<T>>();
  for (const s of all) unique.set(s.key, s);
  const list = [...unique.values()];
  return list
    .filter((s) => !list.some((o) => s.clock.compare(o.clock) === "before"))
    .sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
}

/**
 * Multi-value register: concurrent writes (by vector clock) are all kept as siblings until a write
 * whose clock dominates them replaces them. Typical write: `reg.set(v, reg.clock().increment(node))`.
 * No tombstones: dominated siblings are dropped on the spot, so when each writer stamps its writes with
 * its own advancing clock, a state holds at most one sibling per writer node (nothing to collect).
 */
export class MVRegister<T> implements Crdt<T[]> {
  readonly type = "mvregister" as const;

  private constructor(private readonly siblings: readonly Sibling<T>[]) {}

  static empty<T>(): MVRegister<T> {
    return new MVRegister<T>([]);
  }

  /** Writes `value` at `clock`; siblings the clock dominates are dropped, concurrent ones kept. */
  set(value: T, clock: VectorClock): MVRegister<T> {
    if (!(clock instanceof VectorClock)) throw new InvalidInputError("MVRegister.set needs a VectorClock");
    return new MVRegister<T>(maximal([...this.siblings, sibling(value, clock)]));
  }

  /** Sibling values, in canonical order. */
  value(): T[] {
    return this.siblings.map((s) => s.value);
  }

  /** Siblings with their clocks. */
  entries(): Array<{ value: T; clock: VectorClock }> {
    return this.siblings.map((s) => ({ value: s.value, clock: s.clock }));
  }

  /** Merge of all sibling clocks: increment it to write a value that supersedes every sibling. */
  clock(): VectorClock {
    return this.siblings.reduce((acc, s) => acc.merge(s.clock), VectorClock.empty());
  }

  merge(other: this): this {
    if (!(other instanceof MVRegister))
      throw new InvalidInputError("cannot merge MVRegister with another type");
    return new MVRegister<T>(maximal([...this.siblings, ...(other as MVRegister<T>).siblings])) as this;
  }

  equals(other: unknown): boolean {
    if (!(other instanceof MVRegister)) return false;
    const theirs = (other as MVRegister<unknown>).siblings;
    return theirs.length === this.siblings.length && theirs.every((s, i) => s.key === this.siblings[i]!.key);
  }

  toJSON(): CrdtJson {
    return {
      type: this.type,
      state: this.siblings.map((s) => ({ value: JSON.parse(s.json), clock: s.clock.toJSON() })),
    };
  }

  static fromState<T = unknown>(state: unknown): MVRegister<T> {
    if (!Array.isArray(state)) throw new InvalidInputError("malformed MVRegister state", { state });
    const siblings = state.map((item) => {
      if (!isPlainRecord(item) || !("value" in item)) {
        throw new InvalidInputError("malformed MVRegister sibling", { item });
      }
      return sibling(item.value as T, VectorClock.from(item.clock as Record<string, number>));
    });
    return new MVRegister<T>(maximal(siblings));
  }
}
