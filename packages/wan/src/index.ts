// @meridian/wan — the public API: WAN links between regions (latency matrix, proxies, partitions), the
// clients that cross them, and home regions for critical data. Building blocks (RPC framing, delay pipes,
// the home store) stay internal.
export { pgPoolOverWan, redisOverWan, type WanClientOptions } from "./clients.js";
export { NotHomeError, PeerAuthError } from "./homes/errors.js";
export {
  addRegionServers,
  createGeoCritical,
  type GeoCritical,
  type GeoCriticalOptions,
  redisService,
} from "./homes/geo-critical.js";
export type { HomeRead, HomeRecord, MovedKey } from "./homes/home-store.js";
export { HomePolicy, type HomePolicyOptions, keyHomedIn } from "./homes/policy.js";
export { type GeoRead, type GeoWrite, HomeRouter, type RehomeResult, type Routed } from "./homes/router.js";
export { defaultLatencyMatrix, type LatencyMatrix, mergeLatency, parseLatencyEnv } from "./latency.js";
export { type MeasurePairsOptions, measurePairs, type PairSamples } from "./latency-map.js";
export { type Endpoint, LinkProxy, type LinkProxyOptions } from "./link-proxy.js";
export { RemoteError } from "./rpc/errors.js";
export { type OneWayDelay, WanNetwork, type WanNetworkOptions } from "./wan-network.js";
