// What each service run as a child process (the processes topology, startCluster's `childProcesses`) is
// started with: its service, its environment (the shared servers, the layout, its region's Redis server)
// and the log line that says it is ready.
import type { MeridianConfig } from "@meridian/core";
import { schemaForNamespace } from "@meridian/region-node";
import { type RegionLayout, regionRedisUrl } from "@meridian/service-kit";
import type { Spawn } from "./service-process.js";

/** What the children's environment follows besides the layout and the servers. */
export interface SpecOptions {
  marketData?: false | { symbols?: number; ticksPerSecond?: number; homeRegion?: string };
  /** `critical` through PostgreSQL + every region's Redis (default true). */
  critical?: boolean;
  /** The replicator's MERIDIAN_WAN_LATENCY_MS (a number or a JSON matrix). */
  latencyMs?: number | string;
}

export interface ServiceSpecs {
  /** The MERIDIAN_REDIS_URLS value every process gets (region=url,…). */
  redisUrls: string;
  nodeSpawn(region: string): Spawn;
  consumerSpawn(region: string): Spawn;
  replicatorSpawn: Spawn;
  /** Undefined with `marketData: false`. */
  marketSpawn: Spawn | undefined;
}

/** Each region's Redis server is the layout's `redisUrls` entry, else the configured one. */
export function serviceSpecs(config: MeridianConfig, layout: RegionLayout, opts: SpecOptions): ServiceSpecs {
  const { regions, namespace } = layout;
  const redisUrls = Object.entries(layout.redisUrls)
    .map(([r, url]) => `${r}=${url}`)
    .join(",");
  const common: Record<string, string> = {
    MERIDIAN_KAFKA_BROKERS: config.kafkaBrokers.join(","),
    MERIDIAN_PG_URL: config.pgUrl,
    MERIDIAN_SCHEMA_REGISTRY_URL: config.schemaRegistryUrl,
    MERIDIAN_REGIONS: regions.join(","),
    MERIDIAN_REDIS_DBS: JSON.stringify(layout.redisDbs),
    ...(redisUrls ? { MERIDIAN_REDIS_URLS: redisUrls } : {}),
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
    MERIDIAN_REDIS_URL: regionRedisUrl(layout, region, config.redisUrl),
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
