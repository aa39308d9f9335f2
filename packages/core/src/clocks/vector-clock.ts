import { InvalidInputError } from "../errors.js";

export type ClockOrder = "before" | "after" | "equal" | "concurrent";

function checkNode(node: unknown): asserts node is string {
  if (typeof node !== "string" || node.length === 0) {
    throw new InvalidInputError("vector clock node id must be a non-empty string", { node });
  }
}

function checkCounter(node: string, counter: unknown): asserts counter is number {
  if (typeof counter !== "number" || !Number.isSafeInteger(counter) || counter < 0) {
    throw new InvalidInputError("vector clock counter must be a non-negative safe integer", {
      node,
      counter,
    });
  }
}

/**
 * Immutable vector clock. Zero counters are never stored, so two clocks that mean the same
 * history are structurally identical (equal encodings, equal toJSON).
 */
export class VectorClock {
  private constructor(private readonly counters: ReadonlyMap<string, number>) {}

  private static readonly EMPTY = new VectorClock(new Map());

  static empty(): VectorClock {
    return VectorClock.EMPTY;
  }

  /** Builds a clock from `{ node: counter }`; throws InvalidInputError on a bad node id or counter. */
  static from(record: Readonly<Record<string, number>>): VectorClock {
    if (record === null || typeof record !== "object" || Array.isArray(record)) {
      throw new InvalidInputError("vector clock must be an object of node -> counter", { record });
    }
    const counters = new Map<string, number>();
    for (const [node, counter] of Object.entries(record)) {
      checkNode(node);
      checkCounter(node, counter);
      if (counter > 0) counters.set(node, counter);
    }
    return new VectorClock(counters);
  }

  get(node: string): number {
    return this.counters.get(node) ?? 0;
  }

  /** Node ids with a non-zero counter, sorted. */
  nodes(): string[] {
    return [...this.counters.keys()].sort();
  }

  increment(node: string): VectorClock {
    checkNode(node);
    const next = this.get(node) + 1;
    checkCounter(node, next);
    const counters = new Map(this.counters);
    counters.set(node, next);
    return new VectorClock(counters);
  }

  /** Pointwise maximum: the least upper bound of both histories. */
  merge(other: VectorClock): VectorClock {
    const counters = new Map(this.counters);
    for (const [node, counter] of other.counters) {
      if (counter > (counters.get(node) ?? 0)) counters.set(node, counter);
    }
    return new VectorClock(counters);
  }

  /** "before" means this happened-before other. */
  compare(other: VectorClock): ClockOrder {
    let thisBigger = false;
    let otherBigger = false;
    const nodes = new Set([...this.counters.keys(), ...other.counters.keys()]);
    for (const node of nodes) {
      const a = this.get(node);
      const b = other.get(node);
      if (a > b) thisBigger = true;
      else if (b > a) otherBigger = true;
      if (thisBigger && otherBigger) return "concurrent";
    }
    if (thisBigger) return "after";
    if (otherBigger) return "before";
    return "equal";
  }

  /** True when this clock has seen everything other has (after or equal). */
  dominates(other: VectorClock): boolean {
    const order = this.compare(other);
    return order === "after" || order === "equal";
  }

  equals(other: VectorClock): boolean {
    return this.compare(other) === "equal";
  }

  toJSON(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const node of this.nodes()) out[node] = this.get(node);
    return out;
  }

  /**
   * Compact, canonical text form: "eu-west:3,us-east:5" (sorted by node id; "" for the empty clock).
   * Node ids are URI-component-escaped so ids containing ':' or ',' still round-trip.
   */
  encode(): string {
    return this.nodes()
      .map((node) => `${encodeURIComponent(node)}:${this.get(node)}`)
      .join(",");
  }

  static decode(encoded: string): VectorClock {
    if (typeof encoded !== "string") {
      throw new InvalidInputError("encoded vector clock must be a string", { encoded });
    }
    if (encoded === "") return VectorClock.empty();
    const record: Record<string, number> = {};
    for (const part of encoded.split(",")) {
      const match = /^([^:,]+):(0|[1-9][0-9]*)$/.exec(part);
      if (!match) throw new InvalidInputError("malformed encoded vector clock", { encoded, part });
      let node: string;
      try {
        node = decodeURIComponent(match[1]!);
      } catch {
        throw new InvalidInputError("malformed node id in encoded vector clock", { encoded, part });
      }
      if (Object.hasOwn(record, node)) {
        throw new InvalidInputError("duplicate node id in encoded vector clock", { encoded, node });
      }
      record[node] = Number(match[2]);
    }
    return VectorClock.from(record);
  }

  toString(): string {
    return `VectorClock(${this.encode()})`;
  }
}
