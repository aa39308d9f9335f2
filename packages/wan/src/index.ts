export { DelayPipe } from "./delay-pipe.js";
export { type Endpoint, LinkProxy, type LinkProxyOptions } from "./link-proxy.js";
export { type OneWayDelay, WanNetwork, type WanNetworkOptions } from "./wan-network.js";
