import type { Redis } from "ioredis";
import type { ApplyOutcome, CacheUpdate, StoredEntry } from "./types.js";

/** Merges `update` into this region's copy atomically. Idempotent. */
export async function applyRemoteUpdate(
  _redis: Redis,
  _keyPrefix: string,
  _update: CacheUpdate,
): Promise<ApplyOutcome> {
  throw new Error("applyRemoteUpdate: not implemented yet");
}

/** This region's copy of `key`, or null. */
export async function readEntry(_redis: Redis, _keyPrefix: string, _key: string): Promise<StoredEntry | null> {
  throw new Error("readEntry: not implemented yet");
}
