// The small interfaces the monitor is written against. Each has an in-memory implementation in the
// unit tests and a real one (Redis / PostgreSQL / Kafka / the region nodes) where the system is wired.

/** What one read through a strong cache returned, and the database's version of the same key. */
export interface StrongReadObservation {
  /** Version the cache read returned (null: key absent). */
  cacheVersion: number | null;
  /** Version of the committed row in the database (null: no row). */
  dbVersion: number | null;
}

/** Reads a strong key through the cache and from the database (source of truth). */
export interface StrongProbe {
  /** Keys worth checking now (e.g. recently written strong keys); the sampler picks among them. */
  candidateKeys(): Promise<readonly string[]>;
  /** Regions whose caches hold strong data. */
  regions(): readonly string[];
  /** The database version of `key`, read on its own. */
  readDbVersion(key: string): Promise<number | null>;
  /** The version `region`'s cache would serve for `key`; null when the cache would not serve it (miss). */
  readCacheVersion(key: string, region: string): Promise<number | null>;
}

/** Per-key digests of one region's eventual data: key → digest of its state (equal digest = equal state). */
export type KeyDigests = ReadonlyMap<string, string>;

/**
 * The order of CRDT states, for sources whose digests are the states themselves (e.g. canonical JSON):
 * lets the monitor tell a region that is behind from one that is ahead, and measure catch-up under
 * continuous writes.
 */
export interface StateLattice {
  /** The digest of the join (merge) of the given states. */
  join(digests: readonly string[]): string;
  /** Whether state `a` is included in state `b` (merge(a, b) = b). */
  leq(a: string, b: string): boolean;
}

/** Where the monitor reads each region's eventual data from, as digests. */
export interface RegionDigestSource {
  regions(): readonly string[];
  snapshot(region: string): Promise<KeyDigests>;
  /** When present, divergence is judged by the lattice (behind = not the join) instead of the majority. */
  lattice?: StateLattice;
}

/** Kafka consumer lag per region (log end offset − committed offset). */
export interface ConsumerLagSource {
  /** `stalled`: the region's consumer is down or blocked on a record (it cannot make progress). */
  lag(): Promise<ReadonlyArray<{ region: string; group: string; lag: number; stalled?: boolean }>>;
}

/** Something the monitor can run consistency suites against (race / stress): a key-value API. */
export interface KeyValueTarget {
  read(key: string, region: string): Promise<{ value: unknown; version: number | null }>;
  write(key: string, value: unknown, region: string): Promise<{ version: number | null }>;
  regions(): readonly string[];
}
