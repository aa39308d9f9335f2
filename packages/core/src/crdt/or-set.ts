import { InvalidInputError } from "../errors.js";
import { canonicalJson, isPlainRecord } from "./canonical-json.js";
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
 * Elements are compared by canonical JSON (key order does not matter). Tombstones are kept forever.
 */
export class ORSet<T> implements Crdt<T[]> {
  readonly type = "orset" as const;

  private constructor(
    private readonly adds: Elements<T>,
    private readonly removes: Elements<T>,
  ) {}

  static empty<T>(): ORSet<T> {
    return new ORSet<T>(new Map(), new Map());
  }

  add(element: T, tag: string): ORSet<T> {
    checkTag(tag);
    const key = canonicalJson(element);
    if (this.removes.get(key)?.tags.has(tag)) {
      // The add would be invisible forever; a reused tag is a caller bug, so say so.
      throw new InvalidInputError("ORSet tag was already removed; tags must be unique per add", { tag });
    }
    const addition = new Map([[key, { element, tags: new Set([tag]) }]]);
    return new ORSet<T>(union(this.adds, addition), this.removes);
  }

  /** Removes the element as observed here (no-op when absent). */
  remove(element: T): ORSet<T> {
    const key = canonicalJson(element);
    const observed = this.adds.get(key);
    if (!observed) return this;
    return new ORSet<T>(this.adds, union(this.removes, new Map([[key, observed]])));
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
    return new ORSet<T>(union(this.adds, other.adds), union(this.removes, other.removes)) as this;
  }

  equals(other: unknown): boolean {
    return (
      other instanceof ORSet &&
      sameElements(this.adds, other.adds) &&
      sameElements(this.removes, other.removes)
    );
  }

  toJSON(): CrdtJson {
    return {
      type: this.type,
      state: { adds: elementsToJson(this.adds), removes: elementsToJson(this.removes) },
    };
  }

  static fromState<T = unknown>(state: unknown): ORSet<T> {
    if (!isPlainRecord(state)) throw new InvalidInputError("malformed ORSet state", { state });
    const adds = elementsFromJson(state.adds, "adds") as Map<string, Element<T>>;
    const removes = elementsFromJson(state.removes, "removes") as Map<string, Element<T>>;
    return new ORSet<T>(adds, removes);
  }

  private liveTags(key: string): string[] {
    const added = this.adds.get(key);
    if (!added) return [];
    const removed = this.removes.get(key)?.tags;
    return [...added.tags].filter((tag) => !removed?.has(tag));
  }
}
