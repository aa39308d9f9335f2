// Where fencing-token epochs come from. A token is epoch * EPOCH_SCALE + counter: the counter lives in Redis
// (cheap, atomic with the lock), the epoch comes from a source that outlives Redis, and a new epoch is
// drawn whenever Redis may have lost counters (a new server incarnation) or a counter runs out.
import { InvalidInputError } from "@meridian/core";
import { pgCounter, type SqlQueryable } from "@meridian/store";

/** Counter values per epoch: 2^24 acquisitions of one lock before a new epoch is drawn. */
export const EPOCH_SCALE = 2 ** 24;
/** Epochs must keep epoch * EPOCH_SCALE + counter a safe integer. */
export const MAX_EPOCH = Math.floor(Number.MAX_SAFE_INTEGER / EPOCH_SCALE) - 1;

export interface FenceEpochSource {
  /** A number larger than every one returned before for `namespace` (across restarts, if durable). */
  next(namespace: string): Promise<number>;
  /** True when the epochs survive the loss of every process and of Redis (e.g. PostgreSQL). */
  readonly durable: boolean;
}

export type { SqlQueryable };

/**
 * Durable epochs: one row per lock namespace in PostgreSQL, bumped in one statement (row lock), so two
 * callers never get the same epoch and a later call always gets a larger one.
 */
export function pgFenceEpochs(db: SqlQueryable, table = "meridian_lock_epochs"): FenceEpochSource {
  const next = pgCounter(db, table, "epoch", 1);
  return {
    durable: true,
    next: async (namespace) => checkedEpoch(await next(namespace)),
  };
}

const CLOCK_EPOCH_ORIGIN_MS = Date.UTC(2025, 0, 1);

/**
 * Fallback when no durable source is configured: whole seconds since 2025-01-01. Larger after any restart
 * as long as the wall clock does not step back; NOT durable against a clock set backwards.
 */
export function clockFenceEpochs(now: () => number = Date.now): FenceEpochSource {
  return {
    durable: false,
    async next() {
      return checkedEpoch(Math.max(1, Math.floor((now() - CLOCK_EPOCH_ORIGIN_MS) / 1000)));
    },
  };
}

function checkedEpoch(epoch: number): number {
  if (!Number.isSafeInteger(epoch) || epoch < 1 || epoch > MAX_EPOCH) {
    throw new InvalidInputError(`fence epoch ${epoch} outside 1..${MAX_EPOCH}`, { epoch });
  }
  return epoch;
}
