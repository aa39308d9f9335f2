// Which write policy each data class gets (the hybrid strategy).
import type { DataClass } from "@meridian/core";

export type WritePolicy = "write-through" | "write-back";

/**
 * critical (balances, orders): write-through — a write is acknowledged only once it is in L2 and L3.
 * important (positions, market data): write-back — dirty in L1, coalesced in the write buffer, flushed
 *   on eviction / buffer size / age / shutdown.
 * cacheable (preferences, history): write-back with a longer buffer age (it coalesces the most); the
 *   Redis near cache also gives its L1 copies a TTL as a safety net against a lost invalidation.
 */
export const DEFAULT_POLICY: Readonly<Record<DataClass, WritePolicy>> = {
  critical: "write-through",
  important: "write-back",
  cacheable: "write-back",
};

export function policyFor(
  dataClass: DataClass,
  table: Readonly<Record<DataClass, WritePolicy>> = DEFAULT_POLICY,
) {
  return table[dataClass];
}
