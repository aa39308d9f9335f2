// Public API of @meridian/eventual: eventual-consistency cache over Redis L2 + Kafka, CRDT merges,
// rollback and anti-entropy. See ../README.md for semantics.
export type {
  ApplyOutcome,
  CacheUpdate,
  CrdtOp,
  EventualCacheOptions,
  EventualRead,
  ReadInfo,
  ReadOptions,
  RegionStore,
  StoredEntry,
  UpdateKind,
  UpdatePublisher,
} from "./types.js";
export { applyRemoteUpdate, readEntry } from "./entry-store.js";
export { EventualConsistencyCache } from "./cache.js";
export { AntiEntropy, type AntiEntropyOptions, type AntiEntropyResult } from "./anti-entropy.js";
export { kafkaUpdatePublisher } from "./publisher.js";
export { crdtPolicyByPrefix } from "./policy.js";
