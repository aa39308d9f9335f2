// The invalidation-consumer service: merges a region's inbound updates into its Redis, commits offsets
// after the merge, dead-letters malformed messages.
export {
  type AppliedEvent,
  type ConvergenceSummary,
  ConvergenceTracker,
  quantile,
  summarize,
} from "./convergence.js";
export {
  type InvalidationConsumerHandle,
  type InvalidationConsumerOptions,
  startInvalidationConsumer,
} from "./invalidation-consumer.js";
export { parseReplicationMode, type ReplicationMode, remoteUpdateTopics, sourceTopics } from "./sources.js";
