// Public types of @meridian/eventual. The replicated update is the bus's TS type of
// schemas/CacheUpdate.avsc: one definition of the wire contract (a type-only import).
import type { CacheUpdate } from "@meridian/bus";
import type { AnyCrdt, CrdtType, HlcTimestamp, ReadBound, VectorClock } from "@meridian/core";
import type { WriterIncarnationSource } from "./incarnation.js";
import type { CoalescerOptions } from "./write-coalescer.js";

export type { CacheUpdate };
export type UpdateKind = CacheUpdate["kind"];

/** What a region's L2 holds for one key. */
export interface StoredEntry {
  crdt: AnyCrdt;
  /** Join of the clocks of every update this state reflects. */
  clock: VectorClock;
  /** Greatest HLC timestamp among the updates this state reflects. */
  hlc: HlcTimestamp;
  /** Region that made the newest (by HLC) update reflected here. */
  region: string;
  /** Local wall time when this region's copy last changed. */
  updatedAtMs: number;
}

/** Outcome of merging one update into a region's copy. */
export type ApplyOutcome = "applied" | "dominated" | "merged" | "duplicate";

/** Operations for CRDTs whose writes are not plain values. */
export type CrdtOp =
  | { op: "increment"; by?: number }
  | { op: "decrement"; by?: number }
  | { op: "add"; element: unknown }
  | { op: "remove"; element: unknown };

export interface EventualRead {
  /** The CRDT's value (lww: the value; pncounter: number; orset: elements; mvregister: siblings array). */
  value: unknown;
  /** The entry's vector clock, `{ region: counter }`; pass it to rollback() or as minVersion. */
  version: Record<string, number>;
  /** Region whose L2 served the read. */
  region: string;
  /** Region that made the newest update reflected in `value`. */
  writtenBy: string;
  /** ms since this copy was last known fresh (newest update's HLC time, anti-entropy verification or read-repair). */
  ageMs: number;
  /** ageMs exceeded the consistency window (options.maxAgeMs); only possible when no per-read bound was given. */
  stale: boolean;
  /** True when this read refreshed the key from peer regions to meet its bound. */
  refreshed: boolean;
}

/** What the monitor sees for every read (hook `onRead`). */
export interface ReadInfo {
  key: string;
  region: string;
  found: boolean;
  ageMs: number | null;
  stale: boolean;
  refreshed: boolean;
  /** The read failed its bound (StalenessBoundError); ageMs is the local copy's age. */
  failed: boolean;
  version: Record<string, number> | null;
  atMs: number;
}

export interface UpdatePublisher {
  publish(update: CacheUpdate): Promise<void>;
  /** Several updates in one send (optional; a coalesced batch of writes uses it when present). */
  publishMany?(updates: CacheUpdate[]): Promise<void>;
}

/** A region's L2 reached directly (anti-entropy, read-repair). */
export interface RegionStore {
  region: string;
  redis: import("ioredis").Redis;
  keyPrefix: string;
}

export interface EventualCacheOptions {
  region: string;
  keyPrefix: string;
  /**
   * Where writer incarnations come from (`pgWriterIncarnations(pool)`): a region whose Redis lost its data
   * then counts its writes under a new vector-clock node instead of reusing counters. Without it the
   * region always writes as incarnation 0 (its plain name) and a Redis that lost its data reuses counters.
   */
  incarnations?: WriterIncarnationSource;
  /** Key -> CRDT type policy (default: every key is "lww"). See crdtPolicyByPrefix(). */
  crdtTypeFor?: (key: string) => CrdtType;
  /** Consistency window: reads older than this are flagged `stale: true` (default: no window). */
  maxAgeMs?: number;
  /** Other regions' L2, used to refresh a read that cannot meet its bound (read-repair). */
  peers?: RegionStore[];
  /** Called after every read, hit or miss, with its freshness. Must not throw. */
  onRead?: (info: ReadInfo) => void;
  /** How many overridden states to keep per key for rollback (default 20) ... */
  historyLimit?: number;
  /** ... and for how long (default 1 h). */
  historyTtlMs?: number;
  /** Bound on one publish (default 5000 ms): a broker that does not answer fails the write's ack. */
  publishTimeoutMs?: number;
  /**
   * Coalescing of unversioned writes (default on, `{}`): see write-coalescer.ts for the flush window and
   * the bound. `false` writes each call on its own (one Redis write and one publish per call).
   */
  coalesce?: CoalescerOptions | false;
  /** Injected wall clock (tests). */
  now?: () => number;
}

/** `minVersion` is a vector clock `{ region: counter }`, e.g. the version a write returned. */
export type ReadOptions = ReadBound<Record<string, number>>;
