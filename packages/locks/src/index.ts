export { AcquireBatcher } from "./acquire-batcher.js";
export { type BackoffOptions, backoffDelay } from "./backoff.js";
export { CachedLock } from "./cached-lock.js";
export { type EscalatorOptions, keyResource, LockEscalator, namespaceResource } from "./escalation.js";
export {
  clockFenceEpochs,
  EPOCH_SCALE,
  type FenceEpochSource,
  MAX_EPOCH,
  pgFenceEpochs,
  type SqlQueryable,
} from "./fence-epochs.js";
export { type LockKeys, lockKeys, ownerOfToken } from "./keys.js";
export { type CachedAcquireOptions, LockCache, type LockCacheOptions } from "./lock-cache.js";
export { LockHandle, type LockOps, type LockState } from "./lock-handle.js";
export { type AcquireOptions, type AttemptFn, LockManager, type LockManagerOptions } from "./lock-manager.js";
export { currentLockOwner, withLockOwner } from "./lock-owner.js";
export { Watchdog, type WatchdogTarget } from "./watchdog.js";
