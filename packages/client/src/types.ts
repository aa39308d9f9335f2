// What every read and write of the client returns, whatever the class.
import type { Region } from "@meridian/core";
import type { MeridianSession } from "./session.js";

export type Source = "l1" | "l2" | "database";

export interface ClientRead<V = unknown> {
  /** undefined when the key does not exist. */
  value: V | undefined;
  /** critical: integer version; important: vector clock `{region: counter}`; cacheable: write time (ms). */
  version: unknown;
  /** ms since this copy was known fresh (critical L1 copies are current while served: age since filled). */
  ageMs: number;
  /** true only when the caller allowed stale data and L2 could not be reached (never for critical). */
  stale: boolean;
  source: Source;
  region: Region;
  /** important: the region that made the newest update reflected in `value`. */
  writtenBy?: string;
}

export interface ClientWrite {
  version: unknown;
  region: Region;
}

export interface ReadOptions {
  /** Serve nothing older than this (important / cacheable: the copy's age; critical: since filled). */
  maxAgeMs?: number;
  /** Read-your-writes and monotonic reads across regions. */
  session?: MeridianSession;
  /** important / cacheable: when L2 is unreachable, serve the L1 copy flagged `stale: true`. */
  allowStale?: boolean;
}

export interface WriteOptions {
  session?: MeridianSession;
}
