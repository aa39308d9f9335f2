// cacheable: weak consistency bounded by time. The region's Redis (L2) keeps each entry with PX ttl; the
// L1 keeps a copy until min(entry expiry, fill + l1TtlMs), so no read is staler than l1TtlMs (< 1 s by
// default) — other nodes' writes are not pushed, they are waited out. Same L2 layout as the region
// node's TTL store (`<prefix>weak:<key>` = {value, writtenAtMs, expiresAtMs}).
import {
  BackendUnavailableError,
  InvalidInputError,
  MeridianError,
  type Region,
  StalenessBoundError,
} from "@meridian/core";
import type { Redis } from "ioredis";
import { deepFreeze, type L1Store, l1Read } from "../l1.js";
import type { ClientRead, ClientWrite, ReadOptions } from "../types.js";

export interface CacheableTierOptions {
  region: Region;
  redis: Redis;
  keyPrefix: string;
  l1: L1Store<unknown>;
  /** Default entry TTL in L2. */
  ttlMs: number;
  maxTtlMs: number;
  /** The staleness bound: an L1 copy is dropped this long after it was read from L2. */
  l1TtlMs: number;
  sizeOf: (v: unknown) => number;
}

interface Stored {
  value: unknown;
  writtenAtMs: number;
  expiresAtMs: number;
}

export class CacheableTier {
  constructor(private readonly o: CacheableTierOptions) {}

  hit(key: string, opts: ReadOptions | undefined, now: number): ClientRead | undefined {
    const o = this.o;
    const e = o.l1.peekTrusted(key, now);
    if (e === undefined) return undefined;
    const ageMs = e.ageAtFill + (now - e.filledAt);
    if (opts?.maxAgeMs !== undefined && ageMs > opts.maxAgeMs) return undefined;
    return l1Read(o.l1, e, ageMs, o.region);
  }

  async get(key: string, opts: ReadOptions = {}): Promise<ClientRead> {
    const hit = this.hit(key, opts, performance.now());
    if (hit !== undefined) return hit;
    const o = this.o;
    o.l1.counters.misses++;
    const fill = o.l1.beginFill(key);
    let raw: string | null;
    try {
      raw = await o.redis.get(this.redisKey(key));
    } catch (err) {
      o.l1.endFill(key, fill);
      const e = opts.allowStale ? o.l1.peekAny(key) : undefined;
      if (e) {
        const ageMs = e.ageAtFill + (performance.now() - e.filledAt);
        return l1Read(o.l1, e, ageMs, o.region, true);
      }
      throw asTyped(err);
    }
    const stored = raw === null ? undefined : parseStored(raw);
    const wall = Date.now();
    if (stored === undefined || stored.expiresAtMs <= wall) {
      o.l1.endFill(key, fill);
      return { value: undefined, version: 0, ageMs: 0, stale: false, source: "l2", region: o.region };
    }
    const ageMs = Math.max(0, wall - stored.writtenAtMs);
    if (opts.maxAgeMs !== undefined && ageMs > opts.maxAgeMs) {
      o.l1.endFill(key, fill);
      throw new StalenessBoundError(`entry is ${ageMs} ms old, bound is ${opts.maxAgeMs} ms`, {
        key,
        ageMs,
        maxAgeMs: opts.maxAgeMs,
      });
    }
    stored.value = deepFreeze(stored.value);
    this.put(key, stored, fill, ageMs);
    return {
      value: stored.value,
      version: stored.writtenAtMs,
      ageMs,
      stale: false,
      source: "l2",
      region: o.region,
    };
  }

  /** `json` is the value's JSON text (validated by the caller). */
  async set(key: string, json: string, ttlMs = this.o.ttlMs): Promise<ClientWrite> {
    const o = this.o;
    if (!Number.isInteger(ttlMs) || ttlMs < 1 || ttlMs > o.maxTtlMs) {
      throw new InvalidInputError(`ttlMs must be an integer in [1, ${o.maxTtlMs}]`, { ttlMs });
    }
    const now = Date.now();
    const stored: Stored = {
      value: deepFreeze(JSON.parse(json)),
      writtenAtMs: now,
      expiresAtMs: now + ttlMs,
    };
    const text = `{"value":${json},"writtenAtMs":${now},"expiresAtMs":${stored.expiresAtMs}}`;
    o.l1.invalidate(key);
    try {
      await o.redis.set(this.redisKey(key), text, "PX", ttlMs);
    } catch (err) {
      throw asTyped(err);
    }
    this.put(key, stored, o.l1.beginFill(key), 0);
    return { version: stored.writtenAtMs, region: o.region };
  }

  private put(
    key: string,
    stored: Stored,
    fill: ReturnType<L1Store<unknown>["beginFill"]>,
    ageMs: number,
  ): void {
    const now = performance.now();
    const o = this.o;
    o.l1.install(key, fill, {
      value: stored.value,
      version: stored.writtenAtMs,
      filledAt: now,
      ageAtFill: ageMs,
      expiresAt: now + Math.min(o.l1TtlMs, stored.expiresAtMs - Date.now()),
      writtenBy: undefined,
      bytes: o.sizeOf(stored.value) + key.length,
    });
  }

  private redisKey(key: string): string {
    return `${this.o.keyPrefix}weak:${key}`;
  }
}

function parseStored(raw: string): Stored | undefined {
  try {
    const s = JSON.parse(raw) as Stored;
    return typeof s?.writtenAtMs === "number" && typeof s.expiresAtMs === "number" ? s : undefined;
  } catch {
    return undefined;
  }
}

function asTyped(err: unknown): Error {
  if (err instanceof MeridianError) return err;
  return new BackendUnavailableError(`cacheable tier: ${(err as Error)?.message ?? String(err)}`, {
    backend: "redis",
  });
}
