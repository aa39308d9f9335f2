// The `cacheable` class (preferences, history): weak consistency bounded by a TTL. A write lands in the
// region's Redis (L2, PX ttl) and in a small in-process map (L1) whose own TTL never exceeds the entry's,
// so no read is ever served from an entry older than its TTL (< 1 s by default). Not replicated.
import type { Redis } from "@meridian/store";
import { ageWithinBound, newTtlEntry, type TtlEntry } from "./ttl-entry.js";

export interface TtlRead {
  value: unknown;
  /** Write time at the writer (ms since epoch) — monotone per key within a region. */
  version: number;
  region: string;
  ageMs: number;
  source: "l1" | "l2";
}

export interface TtlCacheOptions {
  region: string;
  keyPrefix: string;
  /** Default entry TTL and thus the staleness bound (default 1000 ms). */
  ttlMs?: number;
  /** Largest TTL a writer may ask for (default 60 000 ms). */
  maxTtlMs?: number;
  /** L1 entries live at most this long (default 250 ms), so a write in another process is seen soon. */
  l1TtlMs?: number;
  l1MaxEntries?: number;
  now?: () => number;
}

type Stored = TtlEntry;

export class TtlCache {
  private readonly l1 = new Map<string, Stored & { l1ExpiresAtMs: number }>();
  readonly ttlMs: number;
  private readonly maxTtlMs: number;
  private readonly l1TtlMs: number;
  private readonly l1MaxEntries: number;
  private readonly now: () => number;

  constructor(
    private readonly redis: Redis,
    private readonly opts: TtlCacheOptions,
  ) {
    this.ttlMs = opts.ttlMs ?? 1000;
    this.maxTtlMs = opts.maxTtlMs ?? 60_000;
    this.l1TtlMs = opts.l1TtlMs ?? 250;
    this.l1MaxEntries = opts.l1MaxEntries ?? 10_000;
    this.now = opts.now ?? Date.now;
  }

  private redisKey(key: string): string {
    return `${this.opts.keyPrefix}weak:${key}`;
  }

  async set(
    key: string,
    value: unknown,
    ttlMs = this.ttlMs,
  ): Promise<{ version: number; expiresAtMs: number }> {
    const stored = newTtlEntry(value, ttlMs, this.maxTtlMs, this.now());
    await this.redis.set(this.redisKey(key), JSON.stringify(stored), "PX", ttlMs);
    this.putL1(key, stored);
    return { version: stored.writtenAtMs, expiresAtMs: stored.expiresAtMs };
  }

  /** The live entry or null. `maxAgeMs` tightens the bound: an older entry fails with StalenessBoundError. */
  async get(key: string, opts: { maxAgeMs?: number } = {}): Promise<TtlRead | null> {
    const now = this.now();
    let source: "l1" | "l2" = "l1";
    let stored: Stored | undefined = this.l1.get(key);
    if (stored && (this.l1.get(key)!.l1ExpiresAtMs <= now || stored.expiresAtMs <= now)) {
      this.l1.delete(key);
      stored = undefined;
    }
    if (!stored) {
      source = "l2";
      const raw = await this.redis.get(this.redisKey(key));
      if (raw === null) return null;
      stored = JSON.parse(raw) as Stored;
      if (stored.expiresAtMs <= now) return null;
      this.putL1(key, stored);
    }
    const ageMs = ageWithinBound(key, stored, now, opts.maxAgeMs);
    return { value: stored.value, version: stored.writtenAtMs, region: this.opts.region, ageMs, source };
  }

  async delete(key: string): Promise<void> {
    this.l1.delete(key);
    await this.redis.del(this.redisKey(key));
  }

  private putL1(key: string, stored: Stored): void {
    if (this.l1.size >= this.l1MaxEntries) {
      const oldest = this.l1.keys().next();
      if (!oldest.done) this.l1.delete(oldest.value);
    }
    this.l1.set(key, { ...stored, l1ExpiresAtMs: Math.min(stored.expiresAtMs, this.now() + this.l1TtlMs) });
  }
}
