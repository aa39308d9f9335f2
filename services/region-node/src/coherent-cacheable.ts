// The `cacheable` class through @meridian/coherence's CoherentNearCache: an in-process L1 per region node
// kept coherent (directory MESI, invalidations over Redis pub/sub) with the region's Redis L2, so two nodes
// of one region never serve each other's overwritten values from L1. The TTL contract of TtlCache is kept:
// each stored value carries its write time and expiry, and a read never returns an entry past its TTL.

import { CoherentNearCache, DEFAULT_POLICY } from "@meridian/coherence";
import type { RedisAuth } from "@meridian/core";
import type { TtlRead } from "./ttl-cache.js";
import { ageWithinBound, newTtlEntry, type TtlEntry } from "./ttl-entry.js";

/** What the region node needs of its `cacheable` store (TtlCache and CoherentCacheable both offer it). */
export interface CacheableStore {
  readonly ttlMs: number;
  set(key: string, value: unknown, ttlMs?: number): Promise<{ version: number; expiresAtMs: number }>;
  get(key: string, opts?: { maxAgeMs?: number }): Promise<TtlRead | null>;
}

type Stored = TtlEntry;

export interface CoherentCacheableOptions {
  region: string;
  /** Redis URL of the region's L2 (its logical DB included, e.g. redis://host:6379/3). */
  redisUrl: string;
  redisAuth?: RedisAuth;
  /** Namespace of the coherence keys and pub/sub channels (unique per region and deployment). */
  prefix: string;
  nodeId: string;
  ttlMs?: number;
  maxTtlMs?: number;
  l1Capacity?: number;
}

export class CoherentCacheable implements CacheableStore {
  readonly ttlMs: number;
  private readonly maxTtlMs: number;

  private constructor(
    readonly near: CoherentNearCache<Stored>,
    private readonly region: string,
    opts: CoherentCacheableOptions,
  ) {
    this.ttlMs = opts.ttlMs ?? 1000;
    this.maxTtlMs = opts.maxTtlMs ?? 60_000;
  }

  static async connect(opts: CoherentCacheableOptions): Promise<CoherentCacheable> {
    const ttlMs = opts.ttlMs ?? 1000;
    const near = await CoherentNearCache.connect<Stored>({
      redisUrl: opts.redisUrl,
      redisAuth: opts.redisAuth,
      prefix: opts.prefix,
      nodeId: opts.nodeId,
      ...(opts.l1Capacity !== undefined ? { l1Capacity: opts.l1Capacity } : {}),
      // Write-through: a cacheable write is in the region's Redis when it is acknowledged (as with
      // TtlCache), so a node that stops without close() loses nothing that was acknowledged.
      policy: { ...DEFAULT_POLICY, cacheable: "write-through" },
      // L1 copies never outlive the staleness bound, even if an invalidation is lost.
      cacheableTtlMs: ttlMs,
    });
    return new CoherentCacheable(near, opts.region, opts);
  }

  async set(
    key: string,
    value: unknown,
    ttlMs = this.ttlMs,
  ): Promise<{ version: number; expiresAtMs: number }> {
    const stored = newTtlEntry(value, ttlMs, this.maxTtlMs, Date.now());
    await this.near.set(key, stored, "cacheable");
    return { version: stored.writtenAtMs, expiresAtMs: stored.expiresAtMs };
  }

  /** The live entry or null; an entry past its TTL is absent. `maxAgeMs` tightens the bound. */
  async get(key: string, opts: { maxAgeMs?: number } = {}): Promise<TtlRead | null> {
    const r = await this.near.get(key, { dataClass: "cacheable" });
    const stored = r.value;
    const now = Date.now();
    if (!stored || stored.expiresAtMs <= now) return null;
    const ageMs = ageWithinBound(key, stored, now, opts.maxAgeMs);
    return {
      value: stored.value,
      version: stored.writtenAtMs,
      region: this.region,
      ageMs,
      source: r.l1Hit ? "l1" : "l2",
    };
  }

  close(): Promise<void> {
    return this.near.close();
  }
}

/** The URL of `redisUrl`'s server with logical DB `db` selected (the near cache opens its own clients). */
export function redisUrlWithDb(redisUrl: string, db: number): string {
  const u = new URL(redisUrl);
  u.pathname = `/${db}`;
  return u.toString();
}
