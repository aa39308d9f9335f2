// The in-process L1 of one data class: lru-cache bounded by entry count and by bytes. Entries carry an
// epoch: bumping the epoch (lease lapse, lost invalidation stream) makes every older entry untrusted at
// once without walking the map, while keeping it for reads that explicitly accept stale data.
import type { Region } from "@meridian/core";
import { LRUCache } from "lru-cache";
import type { ClientRead } from "./types.js";

export interface L1Entry<V> {
  value: V;
  /** The class's version (critical: integer; important: vector clock; cacheable: write time). */
  version: unknown;
  /** performance.now() when the copy was taken from L2. */
  filledAt: number;
  /** Age of the copy when it was taken (important: the L2 copy's own age). */
  ageAtFill: number;
  /** performance.now() after which the copy is not served (cacheable TTL; Infinity otherwise). */
  expiresAt: number;
  epoch: number;
  bytes: number;
  /** important: region of the newest update reflected (undefined for other classes). */
  writtenBy: string | undefined;
}

export interface Fill {
  voided: boolean;
  epoch: number;
}

export interface L1Limits {
  maxEntries: number;
  maxBytes: number;
}

export interface L1Counters {
  hits: number;
  misses: number;
  evictions: number;
  invalidations: number;
}

export class L1Store<V> {
  readonly counters: L1Counters = { hits: 0, misses: 0, evictions: 0, invalidations: 0 };
  /** Entries filled under an older epoch are not trusted. */
  epoch = 1;
  private readonly lru: LRUCache<string, L1Entry<V>>;
  /** Keys with a fill in flight: an invalidation that lands meanwhile voids the fill. */
  private readonly fills = new Map<string, Set<Fill>>();

  constructor(limits: L1Limits) {
    this.lru = new LRUCache<string, L1Entry<V>>({
      max: limits.maxEntries,
      maxSize: limits.maxBytes,
      sizeCalculation: (e) => e.bytes,
      dispose: (_v, _k, reason) => {
        if (reason === "evict") this.counters.evictions++;
      },
    });
  }

  /** A trusted, unexpired entry (counted as hit), or undefined (not counted: the caller decides). */
  peekTrusted(key: string, now: number): L1Entry<V> | undefined {
    const e = this.lru.get(key);
    if (e === undefined || e.epoch !== this.epoch || e.expiresAt <= now) return undefined;
    return e;
  }

  /** Any entry, trusted or not (for reads that accept stale data when L2 is unreachable). */
  peekAny(key: string): L1Entry<V> | undefined {
    return this.lru.peek(key);
  }

  /** Starts a fill; `install` succeeds only if no invalidation or epoch bump happened since. */
  beginFill(key: string): Fill {
    const fill: Fill = { voided: false, epoch: this.epoch };
    let set = this.fills.get(key);
    if (!set) {
      set = new Set();
      this.fills.set(key, set);
    }
    set.add(fill);
    return fill;
  }

  /** Ends the fill; installs the entry unless the fill was voided. True when installed. */
  install(key: string, fill: Fill, entry: Omit<L1Entry<V>, "epoch">): boolean {
    this.endFill(key, fill);
    if (fill.voided || fill.epoch !== this.epoch) return false;
    if (entry.bytes > (this.lru.maxSize ?? Number.POSITIVE_INFINITY)) return false;
    this.lru.set(key, {
      value: entry.value,
      version: entry.version,
      filledAt: entry.filledAt,
      ageAtFill: entry.ageAtFill,
      expiresAt: entry.expiresAt,
      epoch: fill.epoch,
      bytes: entry.bytes,
      writtenBy: entry.writtenBy,
    });
    return true;
  }

  endFill(key: string, fill: Fill): void {
    const set = this.fills.get(key);
    if (!set) return;
    set.delete(fill);
    if (set.size === 0) this.fills.delete(key);
  }

  /** Drops the copy and voids a fill in flight (an invalidation message, a local write). */
  invalidate(key: string): void {
    this.counters.invalidations++;
    this.lru.delete(key);
    for (const fill of this.fills.get(key) ?? []) fill.voided = true;
  }

  /** Nothing filled before now is trusted any more (fills in flight included). */
  distrustAll(): void {
    this.epoch++;
    for (const set of this.fills.values()) for (const fill of set) fill.voided = true;
  }

  clear(): void {
    this.distrustAll();
    this.lru.clear();
  }

  get size(): number {
    return this.lru.size;
  }

  get bytes(): number {
    return this.lru.calculatedSize;
  }
}

/** L1 values are shared by every reader: frozen so that no caller can change another's copy. */
export function deepFreeze<T>(v: T): T {
  if (typeof v === "object" && v !== null && !Object.isFrozen(v)) {
    Object.freeze(v);
    for (const child of Object.values(v)) deepFreeze(child);
  }
  return v;
}

/** The read an L1 copy answers with (counted as a hit). */
export function l1Read<V>(
  l1: L1Store<V>,
  e: L1Entry<V>,
  ageMs: number,
  region: Region,
  stale = false,
): ClientRead<V> {
  if (!stale) l1.counters.hits++;
  // One object literal per shape: adding `writtenBy` after creation made every important hit pay a hidden-
  // class transition (and left two shapes at each call site), the largest cost of its hit path.
  return e.writtenBy === undefined
    ? { value: e.value, version: e.version, ageMs, stale, source: "l1", region }
    : { value: e.value, version: e.version, ageMs, stale, source: "l1", region, writtenBy: e.writtenBy };
}
