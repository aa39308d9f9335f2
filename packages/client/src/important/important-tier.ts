// important: L1 copies of eventual (CRDT) keys, kept by Redis key tracking. A copy is served while
// tracking has been on without a gap since it was read; a gap (reconnect, tracking table flush) bumps
// the L1 epoch so every older copy is re-validated from L2 before it is served again.
import { MeridianError, type Region, VectorClock } from "@meridian/core";
import type { EventualConsistencyCache, EventualRead } from "@meridian/eventual";
import { deepFreeze, type L1Store, l1Read } from "../l1.js";
import type { ClientRead, ClientWrite, ReadOptions, WriteOptions } from "../types.js";
import type { KeyTracking } from "./tracking.js";

export interface ImportantTierOptions {
  region: Region;
  eventual: EventualConsistencyCache;
  tracking: KeyTracking;
  l1: L1Store<unknown>;
  sizeOf: (v: unknown) => number;
}

export class ImportantTier {
  constructor(private readonly o: ImportantTierOptions) {}

  /** Redis key of a cache key's entry -> cache key (undefined for the eventual store's other keys). */
  cacheKeyOf(redisKey: string): string | undefined {
    const p = `${this.o.eventual.keyPrefix}e:`;
    return redisKey.startsWith(p) ? redisKey.slice(p.length) : undefined;
  }

  hit(key: string, opts: ReadOptions | undefined, now: number): ClientRead | undefined {
    const o = this.o;
    if (!o.tracking.active) return undefined;
    const e = o.l1.peekTrusted(key, now);
    if (e === undefined) return undefined;
    const ageMs = e.ageAtFill + (now - e.filledAt);
    if (opts !== undefined) {
      if (opts.maxAgeMs !== undefined && ageMs > opts.maxAgeMs) return undefined;
      const min = opts.session?.minClock(key);
      if (min !== undefined && !VectorClock.from(e.version as Record<string, number>).dominates(min))
        return undefined;
    }
    return l1Read(o.l1, e, ageMs, o.region);
  }

  async get(key: string, opts: ReadOptions = {}): Promise<ClientRead> {
    const hit = this.hit(key, opts, performance.now());
    if (hit !== undefined) {
      opts.session?.observeImportant(key, hit.version as Record<string, number>);
      return hit;
    }
    const o = this.o;
    o.l1.counters.misses++;
    const trackedAtStart = o.tracking.active;
    const fill = o.l1.beginFill(key);
    let r: EventualRead | null;
    try {
      const min = opts.session?.minClock(key);
      r = await o.eventual.getWithEventualConsistency(key, {
        ...(opts.maxAgeMs !== undefined ? { maxAgeMs: opts.maxAgeMs } : {}),
        ...(min !== undefined ? { minVersion: min.toJSON() } : {}),
      });
    } catch (err) {
      o.l1.endFill(key, fill);
      const stale = opts.allowStale ? this.staleCopy(key, err) : undefined;
      if (stale) return stale;
      throw err;
    }
    const version = r?.version ?? {};
    const ageMs = r?.ageMs ?? 0;
    if (trackedAtStart) {
      o.l1.install(key, fill, {
        value: deepFreeze(r?.value),
        version,
        filledAt: performance.now(),
        ageAtFill: ageMs,
        expiresAt: Number.POSITIVE_INFINITY,
        bytes: o.sizeOf(r?.value) + key.length,
        writtenBy: r?.writtenBy,
      });
    } else o.l1.endFill(key, fill);
    opts.session?.observeImportant(key, version);
    const read: ClientRead = {
      value: r?.value,
      version,
      ageMs,
      stale: r?.stale ?? false,
      source: "l2",
      region: o.region,
    };
    if (r) read.writtenBy = r.writtenBy;
    return read;
  }

  async set(key: string, value: unknown, opts: WriteOptions = {}): Promise<ClientWrite> {
    this.o.l1.invalidate(key);
    const version = await this.o.eventual.setWithEventualConsistency(key, value);
    this.o.l1.invalidate(key);
    opts.session?.observeImportant(key, version);
    return { version, region: this.o.region };
  }

  /** L2 failed and the caller accepts stale data: any copy we have, flagged stale. */
  private staleCopy(key: string, err: unknown): ClientRead | undefined {
    if (!(err instanceof MeridianError) || err.code !== "BACKEND_UNAVAILABLE") return undefined;
    const e = this.o.l1.peekAny(key);
    if (!e) return undefined;
    const ageMs = e.ageAtFill + (performance.now() - e.filledAt);
    return l1Read(this.o.l1, e, ageMs, this.o.region, true);
  }
}
