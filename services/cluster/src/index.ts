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
  startProcessCluster,
} from "./processes.js";
export {
  type RedisServerOptions,
  type RedisServerProcess,
  RegionRedisServers,
  startRedisServer,
} from "./redis-server.js";
export {
  type LaunchOptions,
  RestartableService,
  type ServiceProcess,
  type Spawn,
  spawnService,
} from "./service-process.js";
export { compareRegionStates, pollUntilConverged, type StateComparison } from "./states.js";
export { deletePipelineTopics } from "./teardown.js";
export type { ClusterWan, ClusterWanOptions } from "./wan.js";
