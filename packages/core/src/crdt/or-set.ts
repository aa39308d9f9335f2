import { InvalidInputError } from "../errors.js";
import { canonicalJson, isPlainRecord } from "./canonical-json.js";
import { covered, type Frontier, frontierFromJson, frontierToJson, joinFrontiers, parseDot } from "./dots.js";
import type { Crdt, CrdtJson } from "./types.js";

type Element<T> = { readonly element: T; readonly tags: ReadonlySet<string> };
/** Keyed by the element's canonical JSON. */
type Elements<T> = ReadonlyMap<string, Element<T>>;

function checkTag(tag: unknown): asserts tag is string {
  if (typeof tag !== "string" || tag.length === 0) {
    throw new InvalidInputError("ORSet tag must be a non-empty string", { tag });
  }
}

function union<T>(a: Elements<T>, b: Elements<T>): Map<string, Element<T>> {
  const out = new Map(a);
  for (const [key, eb] of b) {
    const ea = out.get(key);
    out.set(key, ea ? { element: ea.element, tags: new Set([...ea.tags, ...eb.tags]) } : eb);
  }
  return out;
}

function sameElements<T>(a: Elements<T>, b: Elements<T>): boolean {
  if (a.size !== b.size) return false;
  for (const [key, ea] of a) {
    const eb = b.get(key);
    if (!eb || eb.tags.size !== ea.tags.size) return false;
    for (const tag of ea.tags) if (!eb.tags.has(tag)) return false;
  }
  return true;
}

/** `elements` without the tags `drop` picks; elements left with no tag disappear. */
function without<T>(
  elements: Elements<T>,
  drop: (key: string, tag: string) => boolean,
): Map<string, Element<T>> {
  const out = new Map<string, Element<T>>();
  for (const [key, e] of elements) {
    const tags = new Set([...e.tags].filter((tag) => !drop(key, tag)));
    if (tags.size > 0) out.set(key, tags.size === e.tags.size ? e : { element: e.element, tags });
  }
  return out;
}

const holds = <T>(elements: Elements<T>, key: string, tag: string) =>
  elements.get(key)?.tags.has(tag) === true;

function countTags<T>(elements: Elements<T>): number {
  let n = 0;
  for (const e of elements.values()) n += e.tags.size;
  return n;
}

function elementsToJson<T>(elements: Elements<T>): Array<[unknown, string[]]> {
  return [...elements.keys()].sort().map((key) => [JSON.parse(key), [...elements.get(key)!.tags].sort()]);
}

function elementsFromJson(raw: unknown, what: string): Map<string, Element<unknown>> {
  if (!Array.isArray(raw)) throw new InvalidInputError(`malformed ORSet ${what} list`, { raw });
  const out = new Map<string, Element<unknown>>();
  for (const item of raw) {
    if (!Array.isArray(item) || item.length !== 2 || !Array.isArray(item[1])) {
      throw new InvalidInputError(`malformed ORSet ${what} entry`, { item });
    }
    const [element, tags] = item as [unknown, unknown[]];
    for (const tag of tags) checkTag(tag);
    const key = canonicalJson(element);
    const prev = out.get(key);
    out.set(key, { element, tags: new Set([...(prev?.tags ?? []), ...(tags as string[])]) });
  }
  return out;
}

/**
 * Observed-remove set, add-wins. Every add carries a caller-chosen unique tag (e.g. `${node}:${seq}` or a
 * UUID); remove() tombstones only the tags it has observed, so a concurrent add with a fresh tag survives.
 * Elements are compared by canonical JSON (key order does not matter).
 *
 * Tombstones (tags in both `adds` and `removes`) are kept until collect() drops them: tags that are dots
 * (dots.ts) at or below the `collected` frontier are held without tombstones, ORSWOT style — such a tag
 * absent from a state whose frontier covers it was removed, so a stale state still carrying the add cannot
 * bring it back. Opaque tags are never collected. Adding an element that is present tombstones the tags
 * it had (the element stays, under the new tag only), so re-adds do not pile up live tags.
 */
export class ORSet<T> implements Crdt<T[]> {
  readonly type = "orset" as const;

  private constructor(
    private readonly adds: Elements<T>,
    private readonly removes: Elements<T>,
    private readonly collected: Frontier = new Map(),
  ) {}

  static empty<T>(): ORSet<T> {
    return new ORSet<T>(new Map(), new Map());
  }

  add(element: T, tag: string): ORSet<T> {
    checkTag(tag);
    const key = canonicalJson(element);
    if (this.removes.get(key)?.tags.has(tag) || covered(this.collected, tag)) {
      // The add would be invisible forever; a reused tag is a caller bug, so say so.
      throw new InvalidInputError("ORSet tag was already removed; tags must be unique per add", { tag });
    }
    if (this.adds.get(key)?.tags.has(tag)) return this;
    const addition = new Map([[key, { element, tags: new Set([tag]) }]]);
    const base = this.remove(element);
    return new ORSet<T>(union(base.adds, addition), base.removes, this.collected);
  }

  /** Removes the element as observed here (no-op when absent). */
  remove(element: T): ORSet<T> {
    const key = canonicalJson(element);
    const observed = this.adds.get(key);
    if (!observed) return this;
    // A collected dot needs no tombstone: its absence under the frontier says it was removed.
    const gone = (k: string, tag: string) => k === key && covered(this.collected, tag);
    const tombstones = without(new Map([[key, observed]]), gone);
    return new ORSet<T>(without(this.adds, gone), union(this.removes, tombstones), this.collected);
  }

  /**
   * Drops the tombstones at or below `frontier` and keeps the frontier, so merges drop those tags too.
   * Precondition (the caller's to establish): this state holds every dot at or below `frontier` ever made
   * (live or tombstoned) — e.g. `frontier` is the minimum over all regions of their entry clocks and this
   * state is the merge of all regions' states. Returns this when there is nothing to collect.
   */
  collect(frontier: Frontier): ORSet<T> {
    const raised = new Map<string, number>();
    for (const e of this.removes.values()) {
      for (const tag of e.tags) {
        const dot = parseDot(tag);
        const to = dot ? (frontier.get(dot.node) ?? 0) : 0;
        if (dot && dot.counter <= to && to > (this.collected.get(dot.node) ?? 0)) raised.set(dot.node, to);
      }
    }
    if (raised.size === 0) return this;
    const collected = joinFrontiers(this.collected, raised);
    const tombstone = (key: string, tag: string) => covered(collected, tag) && holds(this.removes, key, tag);
    return new ORSet<T>(
      without(this.adds, tombstone),
      without(this.removes, (_key, tag) => covered(collected, tag)),
      collected,
    );
  }

  /** Tags held, live or tombstoned: the state's size driver. */
  tagCount(): { adds: number; removes: number } {
    return { adds: countTags(this.adds), removes: countTags(this.removes) };
  }

  has(element: T): boolean {
    return this.liveTags(canonicalJson(element)).length > 0;
  }

  /** Live elements, sorted by canonical JSON. */
  value(): T[] {
    const out: T[] = [];
    for (const key of [...this.adds.keys()].sort()) {
      if (this.liveTags(key).length > 0) out.push(this.adds.get(key)!.element);
    }
    return out;
  }

  merge(other: this): this {
    if (!(other instanceof ORSet)) throw new InvalidInputError("cannot merge ORSet with another type");
    const theirs = other as ORSet<T>;
    const collected = joinFrontiers(this.collected, theirs.collected);
    const removed = (key: string, tag: string) =>
      (covered(collected, tag) && (holds(this.removes, key, tag) || holds(theirs.removes, key, tag))) ||
      // A side whose frontier covers a dot it does not hold has seen that dot removed.
      (!holds(this.adds, key, tag) && covered(this.collected, tag)) ||
      (!holds(theirs.adds, key, tag) && covered(theirs.collected, tag));
    return new ORSet<T>(
      without(union(this.adds, theirs.adds), removed),
      without(union(this.removes, theirs.removes), (_key, tag) => covered(collected, tag)),
      collected,
    ) as this;
  }

  equals(other: unknown): boolean {
    return (
      other instanceof ORSet &&
      sameElements(this.adds, other.adds) &&
      sameElements(this.removes, other.removes) &&
      canonicalJson(frontierToJson(this.collected)) === canonicalJson(frontierToJson(other.collected))
    );
  }

  toJSON(): CrdtJson {
    return {
      type: this.type,
      state: {
        adds: elementsToJson(this.adds),
        removes: elementsToJson(this.removes),
        // Absent until something is collected: states without it read and encode as before.
        ...(this.collected.size > 0 ? { collected: frontierToJson(this.collected) } : {}),
      },
    };
  }

  static fromState<T = unknown>(state: unknown): ORSet<T> {
    if (!isPlainRecord(state)) throw new InvalidInputError("malformed ORSet state", { state });
    const adds = elementsFromJson(state.adds, "adds") as Map<string, Element<T>>;
    const removes = elementsFromJson(state.removes, "removes") as Map<string, Element<T>>;
    return new ORSet<T>(adds, removes, frontierFromJson(state.collected));
  }

  private liveTags(key: string): string[] {
    const added = this.adds.get(key);
    if (!added) return [];
    const removed = this.removes.get(key)?.tags;
    return [...added.tags].filter((tag) => !removed?.has(tag));
  }
}
