export { type BackoffOptions, backoffDelay } from "./backoff.js";
export { type EscalatorOptions, keyResource, LockEscalator, namespaceResource } from "./escalation.js";
export { type LockKeys, lockKeys, ownerOfToken } from "./keys.js";
export { LockHandle, type LockOps, type LockState } from "./lock-handle.js";
export { type AcquireOptions, type AttemptFn, LockManager, type LockManagerOptions } from "./lock-manager.js";
export { Watchdog, type WatchdogTarget } from "./watchdog.js";
