// What each child process of the processes topology is started with: its service, its environment
// (the shared servers, the layout, its region's own redis-server) and the log line that says it is ready.
import type { MeridianConfig } from "@meridian/core";
import { schemaForNamespace } from "@meridian/region-node";
import type { RegionLayout } from "@meridian/service-kit";
import type { ProcessClusterOptions } from "./processes.js";
import type { RedisServerProcess } from "./redis-server.js";
import type { Spawn } from "./service-process.js";

export interface ServiceSpecs {
  /** The MERIDIAN_REDIS_URLS value every process gets (region=url,…). */
  redisUrls: string;
  nodeSpawn(region: string): Spawn;
  consumerSpawn(region: string): Spawn;
  replicatorSpawn: Spawn;
  /** Undefined with `marketData: false`. */
  marketSpawn: Spawn | undefined;
}

/** `servers[i]` is the redis-server of `layout.regions[i]`. */
export function serviceSpecs(
  config: MeridianConfig,
  layout: RegionLayout,
  servers: readonly RedisServerProcess[],
  opts: ProcessClusterOptions,
): ServiceSpecs {
  const { regions, namespace } = layout;
  const redisUrls = regions.map((r, i) => `${r}=${servers[i]!.url}`).join(",");
  const common: Record<string, string> = {
    MERIDIAN_KAFKA_BROKERS: config.kafkaBrokers.join(","),
    MERIDIAN_PG_URL: config.pgUrl,
    MERIDIAN_SCHEMA_REGISTRY_URL: config.schemaRegistryUrl,
    MERIDIAN_REGIONS: regions.join(","),
    MERIDIAN_REDIS_URLS: redisUrls,
    // Handed to the children only through their environment, never logged.
    MERIDIAN_AUTH_TOKEN: config.httpAuth!.token!.reveal(),
    ...registryTokenEnv(config),
    ...(namespace ? { MERIDIAN_NAMESPACE: namespace } : {}),
  };
  const market = opts.marketData === false ? undefined : (opts.marketData ?? {});
  const home = market?.homeRegion ?? regions[0]!;
  const critical = opts.critical ?? true;
  const regionEnv = (region: string) => ({
    ...common,
    MERIDIAN_REGION: region,
    MERIDIAN_REDIS_URL: servers[regions.indexOf(region)]!.url,
  });

  return {
    redisUrls,
    nodeSpawn: (region) => ({
      name: `region-node-${region}`,
      service: "region-node",
      env: {
        ...regionEnv(region),
        // The schema holds the critical table and, critical or not, the writer incarnations.
        ...(namespace ? { MERIDIAN_PG_SCHEMA: schemaForNamespace(namespace) } : {}),
        ...(critical ? {} : { MERIDIAN_CRITICAL: "off" }),
        ...(market && region === home ? { MERIDIAN_INGEST_MARKET_DATA: "1" } : {}),
      },
      readyMsg: "listening",
    }),
    consumerSpawn: (region) => ({
      name: `invalidation-consumer-${region}`,
      service: "invalidation-consumer",
      env: regionEnv(region),
      readyMsg: "consumer ready",
    }),
    replicatorSpawn: {
      name: "replicator",
      service: "replicator",
      env: {
        ...common,
        ...(opts.latencyMs !== undefined ? { MERIDIAN_WAN_LATENCY_MS: String(opts.latencyMs) } : {}),
      },
      readyMsg: "listening",
    },
    marketSpawn: market && {
      name: "market-data-producer",
      service: "market-data-producer",
      env: {
        ...common,
        MERIDIAN_SYMBOLS: String(market.symbols ?? 20),
        MERIDIAN_TICKS_PER_SECOND: String(market.ticksPerSecond ?? 50),
      },
      readyMsg: "producing",
    },
  };
}

/** The schema registry's token for the children, unless they inherit it from this environment anyway. */
function registryTokenEnv(config: MeridianConfig): Record<string, string> {
  const inherited =
    process.env.MERIDIAN_SCHEMA_REGISTRY_TOKEN !== undefined ||
    process.env.MERIDIAN_SCHEMA_REGISTRY_TOKEN_FILE !== undefined;
  const token = config.schemaRegistryToken;
  return token && !inherited ? { MERIDIAN_SCHEMA_REGISTRY_TOKEN: token.reveal() } : {};
}
