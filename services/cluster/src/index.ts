// @meridian/cluster — the launcher above the services: starts a whole five-region pipeline in one process
// (region nodes, replicator, invalidation consumers, market data), each part returning a handle with stop().

export type { LagEvent } from "./applied-lag.js";
export { freePort, terminate } from "./child.js";
export {
  type Cluster,
  type ClusterOptions,
  type CriticalRows,
  type RegionHandles,
  startCluster,
  stateFingerprint,
} from "./cluster.js";
export { measureCriticalLatencyMap } from "./latency-map.js";
export {
  type ProcessCluster,
  type ProcessClusterOptions,
  type ProcessRegion,
  type ServiceProcess,
  startProcessCluster,
} from "./processes.js";
export { type RedisServerOptions, type RedisServerProcess, startRedisServer } from "./redis-server.js";
export { compareRegionStates, pollUntilConverged, type StateComparison } from "./states.js";
export { deletePipelineTopics } from "./teardown.js";
export type { ClusterWan, ClusterWanOptions } from "./wan.js";
