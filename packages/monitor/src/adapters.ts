// Adapters from Meridian's strong tier to the monitor's probes, written against the shapes they need
// (structural types) so the monitor does not depend on @meridian/strong:
//  - a StrongProbe from the source-of-truth table (version per key) and each region's raw cache copy;
//  - a KeyValueTarget (for the race / stress suites) from one StrongConsistencyCache per region.
import { parseRegion } from "@meridian/core";
import type { KeyValueTarget, StrongProbe } from "./probes.js";

/** The source of truth: the committed version of a key (StrongTable.read). */
export interface VersionedTable {
  read(key: string): Promise<{ version: number }>;
}

/** One region's raw cached copy of a key, without filling it (RegionCache.peek). */
export interface PeekableCache {
  peek(key: string): Promise<{ version: number } | undefined>;
}

export function versionedStoreProbe(o: {
  table: VersionedTable;
  caches: Record<string, PeekableCache>;
  /** The keys to sample (e.g. the most recently written strong keys). */
  keys: () => readonly string[];
}): StrongProbe {
  const regions = Object.keys(o.caches);
  return {
    regions: () => regions,
    candidateKeys: async () => o.keys(),
    readDbVersion: async (key) => {
      const v = (await o.table.read(key)).version;
      return v > 0 ? v : null; // version 0 = the key does not exist
    },
    readCacheVersion: async (key, region) => {
      const cache = o.caches[parseRegion(region, regions)]!;
      return (await cache.peek(key))?.version ?? null;
    },
  };
}

/** The StrongConsistencyCache operations the suites use. */
export interface StrongCacheLike {
  getWithStrongConsistency(key: string): Promise<{ value: unknown; version: number }>;
  setWithStrongConsistency(key: string, value: unknown): Promise<{ version: number }>;
}

export function strongCacheTarget(caches: Record<string, StrongCacheLike>): KeyValueTarget {
  const regions = Object.keys(caches);
  const cacheOf = (region: string) => caches[parseRegion(region, regions)]!;
  return {
    regions: () => regions,
    async read(key, region) {
      const r = await cacheOf(region).getWithStrongConsistency(key);
      return r.version > 0 ? { value: r.value, version: r.version } : { value: null, version: null };
    },
    async write(key, value, region) {
      return { version: (await cacheOf(region).setWithStrongConsistency(key, value)).version };
    },
  };
}

interface MonitorInputs {
  recordCoherenceMessage(type: string, count?: number): void;
  recordLockWait(namespace: string, ms: number): void;
  recordLockHold(namespace: string, ms: number): void;
}

/** For CacheCoherenceManager's `onMessageHandled` option: counts coherence messages by type. */
export function coherenceMessageCounter(monitor: MonitorInputs): (type: string, nanos: number) => void {
  return (type) => monitor.recordCoherenceMessage(type);
}

/**
 * Acquires a lock through `acquire`, recording the wait; the returned `release` records the hold time.
 * Works with any lock API (LockManager, StrongConsistencyCache.acquireLock/releaseLock, redlock).
 */
export async function timedLock<H>(
  monitor: MonitorInputs,
  namespace: string,
  acquire: () => Promise<H>,
  release: (handle: H) => Promise<unknown>,
): Promise<{ handle: H; release(): Promise<void> }> {
  const asked = performance.now();
  const handle = await acquire();
  const got = performance.now();
  monitor.recordLockWait(namespace, got - asked);
  return {
    handle,
    async release() {
      try {
        await release(handle);
      } finally {
        monitor.recordLockHold(namespace, performance.now() - got);
      }
    },
  };
}
