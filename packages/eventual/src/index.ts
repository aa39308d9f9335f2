// Public API of @meridian/eventual: eventual-consistency cache over Redis L2 + Kafka, CRDT merges,
// rollback and anti-entropy. See ../README.md for semantics.

export { AntiEntropy, type AntiEntropyOptions, type AntiEntropyResult } from "./anti-entropy.js";
export {
  type BatchingPublisherOptions,
  type BatchingUpdatePublisher,
  batchingUpdatePublisher,
} from "./batching-publisher.js";
export { EventualConsistencyCache } from "./cache.js";
export { digestOf, entryFromUpdate, updateFromEntry } from "./codec.js";
export { applyWrite, isCrdtOp, restoreValue } from "./crdt-write.js";
export {
  applyRemoteEntries,
  applyRemoteUpdate,
  applyRemoteUpdates,
  type HistoryOptions,
  type HistoryRecord,
  mergeEntries,
  type RemoteEntry,
  readEntries,
  readEntry,
  readHistory,
} from "./entry-store.js";
export {
  pgWriterIncarnations,
  type SqlQueryable,
  type WriterIncarnationSource,
  writerNode,
} from "./incarnation.js";
export { bucketOf, entryKey, INDEX_BUCKETS } from "./keys.js";
export type { MergeCall, MergeResult } from "./merge-script.js";
export {
  collectEntry,
  GC_NODE,
  OrSetCollector,
  type OrSetGcOptions,
  type OrSetGcResult,
  stableFrontier,
} from "./orset-gc.js";
export { crdtPolicyByPrefix } from "./policy.js";
export { type CacheUpdateEncoder, kafkaUpdatePublisher, type ProducerLike } from "./publisher.js";
export { type Resolution, resolveEntries } from "./resolve.js";
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
export type { CoalescerOptions } from "./write-coalescer.js";
