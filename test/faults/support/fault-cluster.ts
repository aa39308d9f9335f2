// The five-region eventual pipeline with one private redis-server per region (startCluster shares one
// server across regions, so a region could not fail alone there). Region nodes, invalidation consumers
// and the replicator are the real services; those named in `childNodes` / `childConsumers` run as child
// processes (@meridian/cluster's RestartableService) so a test can SIGKILL or SIGSTOP them.
import { AvroSerde, createKafka } from "@meridian/bus";
import {
  compareRegionStates,
  deletePipelineTopics,
  freePort,
  RegionRedisServers,
  RestartableService,
} from "@meridian/cluster";
import { configFromEnv, REGIONS } from "@meridian/core";
import { AntiEntropy, pgWriterIncarnations } from "@meridian/eventual";
import { type InvalidationConsumerHandle, startInvalidationConsumer } from "@meridian/invalidation-consumer";
import { type RegionNodeHandle, startRegionNode } from "@meridian/region-node";
import { type ReplicatorHandle, startReplicator } from "@meridian/replicator";
import { createLogger, type RegionLayout, resolveLayout } from "@meridian/service-kit";
import { createPgPool, createRedis, type Redis } from "@meridian/store";
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
  const redisDbs = Object.fromEntries(regions.map((r) => [r, 0]));
  const layout: RegionLayout = resolveLayout({ regions, namespace, redisDbs });
  const shared = configFromEnv();
  const base = o.kafkaBrokers ? { ...shared, kafkaBrokers: [o.kafkaBrokers] } : shared;
  const servers = await RegionRedisServers.start(regions);
  const configOf = (region: string) => ({ ...base, redisUrl: servers.of(region).url });
  const logger = createLogger("faults", { namespace });
  logger.level = process.env.MERIDIAN_LOG_LEVEL ?? "warn";
  const kafka = createKafka(base, `faults-${namespace}`);
  const serde = new AvroSerde(base.schemaRegistryUrl);
  const layoutOpts = { regions, namespace, redisDbs };
  const childEnv = (region: string) => ({
    MERIDIAN_REGION: region,
    MERIDIAN_NAMESPACE: namespace,
    MERIDIAN_REGIONS: regions.join(","),
    MERIDIAN_REDIS_DBS: JSON.stringify(redisDbs),
    MERIDIAN_REDIS_URL: servers.of(region).url,
    MERIDIAN_KAFKA_BROKERS: base.kafkaBrokers.join(","),
    MERIDIAN_LOG_LEVEL: "info",
  });

  // Writer incarnations live in PostgreSQL (as the region-node service wires them): one schema per run.
  const schema = `faults_${namespace.replace(/[^A-Za-z0-9]/g, "_").toLowerCase()}`;
  const pgAdmin = createPgPool(base.pgUrl, { max: 1, ...(base.pgAuth ? { auth: base.pgAuth } : {}) });
  await pgAdmin.query(`CREATE SCHEMA ${schema}`);
  const pgPool = createPgPool(base.pgUrl, {
    max: 4,
    searchPath: schema,
    ...(base.pgAuth ? { auth: base.pgAuth } : {}),
  });
  const incarnations = pgWriterIncarnations(pgPool);

  const stoppers: (() => Promise<void>)[] = [];
  const nodes: Record<string, RegionNodeHandle> = {};
  const consumers: Record<string, InvalidationConsumerHandle> = {};
  const childNodes: Record<string, RestartableService> = {};
  const childConsumers: Record<string, RestartableService> = {};
  const handles: Record<string, FaultRegion> = {};
  let replicator: ReplicatorHandle | undefined;

  const stop = async () => {
    for (const s of stoppers.reverse()) await s().catch(() => undefined);
    stoppers.length = 0;
    for (const h of Object.values(handles)) h.redis.disconnect();
    await servers.stopAll();
    await deletePipelineTopics(kafka, layout); // its Redis data dies with the private servers
    await pgPool.end().catch(() => undefined);
    await pgAdmin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`).catch(() => undefined);
    await pgAdmin.end().catch(() => undefined);
  };

  try {
    replicator = await startReplicator({
      ...layoutOpts,
      config: base,
      kafka,
      port: 0,
      logger,
      latencyMs: o.latencyMs ?? 20,
    });
    stoppers.push(() => replicator!.stop());
    await Promise.all(
      regions.map(async (region) => {
        let url: string;
        if (o.childNodes?.includes(region)) {
          const port = await freePort();
          const child = new RestartableService({
            name: `region-node-${region}`,
            service: "region-node",
            env: { ...childEnv(region), MERIDIAN_PORT: String(port), MERIDIAN_CRITICAL: "off" },
            readyMsg: "listening",
          });
          childNodes[region] = child;
          stoppers.push(() => child.stop());
          await child.start();
          url = `http://127.0.0.1:${port}`;
        } else {
          const node = await startRegionNode({
            ...layoutOpts,
            region,
            config: configOf(region),
            kafka,
            serde,
            port: 0,
            logger,
            cacheableCoherence: false,
            incarnations,
          });
          nodes[region] = node;
          stoppers.push(() => node.stop());
          url = node.url;
        }
        if (o.childConsumers?.includes(region)) {
          const child = new RestartableService({
            name: `invalidation-consumer-${region}`,
            service: "invalidation-consumer",
            env: childEnv(region),
            readyMsg: "consumer ready",
          });
          childConsumers[region] = child;
          stoppers.push(() => child.stop());
          await child.start();
        } else {
          const consumer = await startInvalidationConsumer({
            ...layoutOpts,
            region,
            config: configOf(region),
            kafka,
            serde,
            port: null,
            logger,
          });
          consumers[region] = consumer;
          stoppers.push(() => consumer.stop());
          await consumer.ready();
        }
        const redis = createRedis(servers.of(region).url);
        redis.on("error", () => undefined); // the server is killed on purpose; polls report it
        handles[region] = { region, url, redis };
      }),
    );
    // As startCluster: anti-entropy repairs what the stream cannot (a region whose Redis lost its data).
    const antiEntropy = new AntiEntropy(
      regions.map((r) => ({ region: r, redis: handles[r]!.redis, keyPrefix: layout.keyPrefix })),
      { intervalMs: 2000, onError: () => undefined },
    );
    antiEntropy.start();
    stoppers.push(async () => antiEntropy.stop());
  } catch (err) {
    await stop();
    throw err;
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
    kafka,
    serde,
    regions: handles,
    replicator: replicator!,
    childNodes,
    childConsumers,
    configOf,
    compareStates,
    stop,
  };
}
