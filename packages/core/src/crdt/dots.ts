// Dots: OR-set add tags that name their writer and the writer's per-key counter, `<counter>@<node>/<unique>`.
// The counter is the writer's vector-clock counter of the write that made the add, so a state whose entry
// clock has reached `counter` for `node` has seen the add (or its removal). That is what lets a causally
// stable tombstone be collected (ORSet.collect): any other tag is opaque and is never collected.
import { InvalidInputError } from "../errors.js";

/** Node and counter of a dotted tag. The same pattern is in the Lua merge (eventual's merge script). */
const DOT = /^([1-9]\d{0,14})@([^/]+)\//;

export interface Dot {
  readonly node: string;
  readonly counter: number;
}

/** Per-node counters up to which tombstones have been collected (a version-vector frontier). */
export type Frontier = ReadonlyMap<string, number>;

export function parseDot(tag: string): Dot | null {
  const m = DOT.exec(tag);
  return m ? { node: m[2]!, counter: Number(m[1]) } : null;
}

/**
 * A tag carrying the dot (node, counter); `unique` keeps two adds of one write apart. Null when the node
 * cannot be carried (a `/` in it, or a counter that is not a positive safe integer): use an opaque tag.
 */
export function dotTag(node: string, counter: number, unique: string): string | null {
  if (node.length === 0 || node.includes("/") || !Number.isSafeInteger(counter) || counter < 1) return null;
  const tag = `${counter}@${node}/${unique}`;
  return parseDot(tag)?.counter === counter ? tag : null;
}

/** True when `tag` is a dot at or below `frontier` for its node. */
export function covered(frontier: Frontier, tag: string): boolean {
  if (frontier.size === 0) return false;
  const dot = parseDot(tag);
  return dot !== null && dot.counter <= (frontier.get(dot.node) ?? 0);
}

export function joinFrontiers(a: Frontier, b: Frontier): Map<string, number> {
  const out = new Map(a);
  for (const [node, n] of b) if (n > (out.get(node) ?? 0)) out.set(node, n);
  return out;
}

export function frontierToJson(f: Frontier): Record<string, number> {
  return Object.fromEntries([...f.keys()].sort().map((node) => [node, f.get(node)!]));
}

export function frontierFromJson(raw: unknown): Map<string, number> {
  if (raw === undefined) return new Map();
  if (raw === null || typeof raw !== "object" || Array.isArray(raw)) {
    throw new InvalidInputError("malformed ORSet collected frontier", { raw });
  }
  const out = new Map<string, number>();
  for (const [node, n] of Object.entries(raw)) {
    if (node.length === 0 || typeof n !== "number" || !Number.isSafeInteger(n) || n < 1) {
      throw new InvalidInputError("malformed ORSet collected frontier entry", { node, n });
    }
    out.set(node, n);
  }
  return out;
}
