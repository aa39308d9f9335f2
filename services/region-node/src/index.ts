// The region-node service: HTTP GET/PUT /v1/:class/:key of one region, /healthz, /metrics; underneath it
// the region node that routes each data class to its cache (strong, eventual, TTL).
export {
  type CacheableStore,
  CoherentCacheable,
  type CoherentCacheableOptions,
} from "./coherent-cacheable.js";
export { geoCriticalStore } from "./geo-critical.js";
export { crdtTypeForKey, DATA_CLASSES, marketDataKey, parseDataClass, validateKey } from "./keyspace.js";
export { type NodeFromEnv, startRegionNodeFromEnv } from "./node-from-env.js";
export {
  type CriticalStore,
  createRegionNode,
  type NodeRead,
  type NodeWrite,
  type Placement,
  type ReadOptions,
  type RegionNode,
  type RegionNodeConfig,
} from "./region-node.js";
export {
  type RegionNodeHandle,
  type RegionNodeServiceOptions,
  startRegionNode,
} from "./region-node-service.js";
export { openSchemaPool, type SchemaPoolOptions } from "./schema-pool.js";
export {
  createStrongCritical,
  type StrongCritical,
  type StrongCriticalOptions,
  schemaForNamespace,
} from "./strong-critical.js";
export { TtlCache, type TtlRead } from "./ttl-cache.js";
