export { endpointOf, pgPoolOverWan, redisOverWan, type WanClientOptions } from "./clients.js";
export { DelayPipe } from "./delay-pipe.js";
export { NotHomeError, PeerAuthError } from "./homes/errors.js";
export {
  addRegionServers,
  createGeoCritical,
  type GeoCritical,
  type GeoCriticalOptions,
  homeSchema,
  pgService,
  redisService,
  rpcService,
} from "./homes/geo-critical.js";
export {
  checkUserKey,
  HOME_RECORD_PREFIX,
  type HomeRead,
  type HomeRecord,
  HomeStore,
  type MovedKey,
} from "./homes/home-store.js";
export { fnv1a, HomePolicy, type HomePolicyOptions, keyHomedIn, ownerId } from "./homes/policy.js";
export { type GeoRead, type GeoWrite, HomeRouter, type RehomeResult, type Routed } from "./homes/router.js";
export {
  DEFAULT_UNKNOWN_PAIR_MS,
  defaultLatencyMatrix,
  type LatencyMatrix,
  mergeLatency,
  parseLatencyEnv,
  validateLatencyMatrix,
} from "./latency.js";
export { type MeasurePairsOptions, measurePairs, type PairSamples } from "./latency-map.js";
export { type Endpoint, LinkProxy, type LinkProxyOptions } from "./link-proxy.js";
export { RpcClient, type RpcClientOptions } from "./rpc/client.js";
export { RemoteError } from "./rpc/errors.js";
export { type RpcHandler, type RpcServer, startRpcServer } from "./rpc/server.js";
export { type OneWayDelay, WanNetwork, type WanNetworkOptions } from "./wan-network.js";
