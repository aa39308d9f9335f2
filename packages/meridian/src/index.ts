// Public API of @meridian/meridian: the facade that wires a region node from config, the four services
// (each startable in-process and returning a handle with stop()), and the five-region cluster launcher.
export {
  type Cluster,
  type ClusterOptions,
  type RegionHandles,
  startCluster,
  stateFingerprint,
} from "./cluster.js";
export {
  type CacheableStore,
  CoherentCacheable,
  type CoherentCacheableOptions,
} from "./coherent-cacheable.js";
export {
  type AppliedEvent,
  type ConvergenceSummary,
  ConvergenceTracker,
  quantile,
  summarize,
} from "./convergence.js";
export {
  DLQ_HEADERS,
  type InvalidationConsumerHandle,
  type InvalidationConsumerOptions,
  startInvalidationConsumer,
} from "./invalidation-consumer.js";
export { crdtTypeForKey, DATA_CLASSES, marketDataKey, parseDataClass, validateKey } from "./keyspace.js";
export { defaultLatencyMatrix, type LatencyMatrix, mergeLatency, parseLatencyEnv } from "./latency.js";
export { type RegionLayout, type RegionLayoutOptions, resolveLayout } from "./layout.js";
export { type MarketTick, RandomWalk, symbolNames } from "./market-data.js";
export {
  type MarketDataProducerHandle,
  type MarketDataProducerOptions,
  startMarketDataProducer,
} from "./market-data-producer.js";
export {
  type CriticalStore,
  createRegionNode,
  type NodeRead,
  NotImplementedError,
  type ReadOpts,
  type RegionNode,
  type RegionNodeConfig,
  type WriteResult,
} from "./region-node.js";
export {
  type RegionNodeHandle,
  type RegionNodeServiceOptions,
  startRegionNode,
} from "./region-node-service.js";
export {
  type ReplicatorHandle,
  type ReplicatorOptions,
  type ReplicatorStatus,
  startReplicator,
} from "./replicator.js";
export {
  envInt,
  envRequired,
  layoutFromEnv,
  listenFromEnv,
  parseRedisDbs,
  stopOnSignals,
} from "./service/env.js";
export { createLogger, type Logger } from "./service/observability.js";
export {
  createStrongCritical,
  type StrongCritical,
  type StrongCriticalOptions,
  schemaForNamespace,
} from "./strong-critical.js";
export { pipelineTopicNames } from "./topics.js";
export { TtlCache, type TtlRead } from "./ttl-cache.js";
