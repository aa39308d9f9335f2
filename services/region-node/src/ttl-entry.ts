// The TTL contract of the `cacheable` class, shared by TtlCache and CoherentCacheable: what a stored
// value carries, how a write is validated, and how a read's age is checked against the caller's bound.
import { InvalidInputError, StalenessBoundError } from "@meridian/core";

export interface TtlEntry {
  value: unknown;
  writtenAtMs: number;
  expiresAtMs: number;
}

/** A new entry written at `nowMs`; rejects a missing value or a TTL outside [1, maxTtlMs]. */
export function newTtlEntry(value: unknown, ttlMs: number, maxTtlMs: number, nowMs: number): TtlEntry {
  if (value === undefined) throw new InvalidInputError("cacheable write needs a value", { field: "value" });
  if (!Number.isInteger(ttlMs) || ttlMs < 1 || ttlMs > maxTtlMs) {
    throw new InvalidInputError(`ttlMs must be an integer in [1, ${maxTtlMs}]`, { field: "ttlMs" });
  }
  return { value, writtenAtMs: nowMs, expiresAtMs: nowMs + ttlMs };
}

/** The entry's age at `nowMs`; a StalenessBoundError when it is older than `maxAgeMs`. */
export function ageWithinBound(key: string, entry: TtlEntry, nowMs: number, maxAgeMs?: number): number {
  const ageMs = Math.max(0, nowMs - entry.writtenAtMs);
  if (maxAgeMs !== undefined && ageMs > maxAgeMs) {
    throw new StalenessBoundError(`entry is ${ageMs} ms old, bound is ${maxAgeMs} ms`, {
      key,
      ageMs,
      maxAgeMs,
    });
  }
  return ageMs;
}
