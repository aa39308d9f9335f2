// The five-region eventual pipeline of the fault suites: @meridian/cluster's startCluster with one private
// redis-server per region (so a region's Redis fails alone) and the region nodes / invalidation consumers
// named in `childNodes` / `childConsumers` as child processes (so a test can SIGKILL or SIGSTOP them).
// No critical tier, no market data, the plain TtlCache for `cacheable`: the suites are about the stream.
import { AvroSerde, createKafka } from "@meridian/bus";
import { compareRegionStates, RegionRedisServers, startCluster } from "@meridian/cluster";
import { configFromEnv, REGIONS } from "@meridian/core";
import { createLogger } from "@meridian/service-kit";
import type { Redis } from "@meridian/store";
import { uniqueNamespace } from "../../support/pipeline.js";

export interface FaultClusterOptions {
  label: string;
  /** Regions whose region node runs as a child process (on a fixed port, so a restart keeps its URL). */
  childNodes?: readonly string[];
  /** Regions whose invalidation consumer runs as a child process. */
  childConsumers?: readonly string[];
  /** Kafka bootstrap address (default: the shared broker of configFromEnv()). */
  kafkaBrokers?: string;
  /** Uniform one-way WAN delay of the replicator (default 20 ms: the suite is about faults, not distance). */
  latencyMs?: number;
}

export interface FaultRegion {
  region: string;
  /** Base URL of the region node (stable across a child node's restart). */
  url: string;
  /** Inspection client of the region's private Redis. */
  redis: Redis;
}

export type FaultCluster = Awaited<ReturnType<typeof startFaultCluster>>;

export async function startFaultCluster(o: FaultClusterOptions) {
  const regions = [...REGIONS];
  const namespace = uniqueNamespace(o.label);
  const shared = configFromEnv();
  const config = o.kafkaBrokers ? { ...shared, kafkaBrokers: [o.kafkaBrokers] } : shared;
  const servers = await RegionRedisServers.start(regions);
  const logger = createLogger("faults", {});
  logger.level = process.env.MERIDIAN_LOG_LEVEL ?? "warn";
  const cluster = await startCluster({
    regions,
    namespace,
    config,
    redisDbs: Object.fromEntries(regions.map((r) => [r, 0])),
    redisUrls: Object.fromEntries(regions.map((r) => [r, servers.of(r).url])),
    childProcesses: { nodes: o.childNodes ?? [], consumers: o.childConsumers ?? [] },
    latencyMs: o.latencyMs ?? 20,
    marketData: false,
    critical: false,
    cacheableCoherence: false,
    logger,
  }).catch(async (err) => {
    await servers.stopAll();
    throw err;
  });
  const { layout } = cluster;
  const handles: Record<string, FaultRegion> = {};
  for (const { region, url, redis } of Object.values(cluster.regions)) {
    redis.on("error", () => undefined); // the server is killed on purpose; polls report it
    handles[region] = { region, url, redis };
  }

  // A region whose private Redis is down counts as diverged (the scenarios poll through the outage).
  const compareStates = (keys: readonly string[], among: readonly string[] = regions) =>
    compareRegionStates((r) => handles[r]!.redis, layout.keyPrefix, keys, among, {
      unreachableDiverges: true,
    });

  return {
    layout,
    namespace,
    servers,
    /** For writers beside the cluster's (a skewed clock): its Kafka and schema registry. */
    kafka: createKafka(config, `faults-${namespace}`),
    serde: new AvroSerde(config.schemaRegistryUrl),
    regions: handles,
    replicator: cluster.replicator,
    childNodes: cluster.children.nodes,
    childConsumers: cluster.children.consumers,
    compareStates,
    async stop() {
      await cluster.stop();
      await cluster.purge().catch(() => undefined);
      await servers.stopAll();
    },
  };
}
