// The processes topology: the same pipeline as startCluster, but every service is its own OS process
// (services/<name>/src/main.ts) and every region has its own redis-server, so killing a region's Redis,
// node or consumer is a real, separate failure. Kafka, PostgreSQL and the schema registry are shared.
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createKafka } from "@meridian/bus";
import { configFromEnv, type MeridianConfig } from "@meridian/core";
import { schemaForNamespace } from "@meridian/region-node";
import { bearerHeaders, ensureTopicsFor, type RegionLayout, resolveLayout } from "@meridian/service-kit";
import { createPgPool, createRedis, type PgPool, type Redis } from "@meridian/store";
import { followLagMetrics, type LagEvent } from "./applied-lag.js";
import { withAuthToken } from "./auth-token.js";
import { checkMarketHome } from "./cluster.js";
import { type RedisServerProcess, RegionRedisServers } from "./redis-server.js";
import { bundleServices, type LaunchOptions, type ServiceProcess, spawnService } from "./service-process.js";
import { type ServiceSpecs, serviceSpecs } from "./service-specs.js";
import { compareRegionStates, pollUntilConverged } from "./states.js";

export type { ServiceProcess } from "./service-process.js";

export interface ProcessClusterOptions {
  regions?: readonly string[];
  namespace?: string;
  /** Kafka, PostgreSQL and schema registry (default configFromEnv()); Redis is one private server per region. */
  config?: MeridianConfig;
  marketData?: false | { symbols?: number; ticksPerSecond?: number; homeRegion?: string };
  /** `critical` through PostgreSQL + every region's Redis (default true). */
  critical?: boolean;
  /** WAN one-way delay the replicator adds: MERIDIAN_WAN_LATENCY_MS (a number or a JSON matrix). */
  latencyMs?: number | string;
  /** Where each process's log goes (`<name>.log`; default a temp folder). */
  logDir?: string;
  redisServerBin?: string;
}

export interface ProcessRegion {
  readonly region: string;
  /** The region node's base URL. */
  readonly url: string;
  readonly node: ServiceProcess;
  /** Undefined while stopped by stopConsumer(). */
  consumer: ServiceProcess | undefined;
  readonly redisServer: RedisServerProcess;
  /** Client of the region's Redis DB (inspection; closed by stop()). */
  readonly redis: Redis;
}

export interface ProcessCluster {
  readonly layout: RegionLayout;
  readonly namespace: string | undefined;
  readonly regions: Record<string, ProcessRegion>;
  readonly replicator: ServiceProcess;
  readonly marketData: ServiceProcess | undefined;
  readonly logDir: string;
  /** With `critical` on: a PostgreSQL pool on the critical table's schema (inspection, the monitor's probes). */
  readonly critical: { schema: string | undefined; pool: PgPool } | undefined;
  /** The MERIDIAN_REDIS_URLS value every process got (region=url,…). */
  readonly redisUrls: string;
  /** Authorization header for the services' write and admin routes (the cluster's bearer token). */
  readonly authHeaders: Record<string, string>;
  compareStates(
    keys: readonly string[],
    among?: readonly string[],
  ): Promise<{ converged: boolean; diverged: string[] }>;
  waitForConvergence(keys: readonly string[], timeoutMs?: number): Promise<number>;
  /**
   * Calls `onLag` for every update a consumer merged (from its /metrics, polled every `intervalMs`): the
   * per-update propagation an in-process cluster reports as `applied` events. Returns a stop function.
   */
  followAppliedLag(onLag: (e: LagEvent) => void, intervalMs?: number): () => void;
  stopConsumer(region: string): Promise<void>;
  startConsumer(region: string): Promise<void>;
  stop(): Promise<void>;
}

export async function startProcessCluster(opts: ProcessClusterOptions = {}): Promise<ProcessCluster> {
  const config = withAuthToken(opts.config ?? configFromEnv());
  const layout = resolveLayout(opts);
  const { regions, namespace } = layout;
  checkMarketHome(opts.marketData, regions);
  const logDir = opts.logDir ?? mkdtempSync(join(tmpdir(), "meridian-processes-"));
  const started: Stoppable[] = [];
  const clients: Redis[] = [];
  const stopAll = async () => {
    for (const c of clients) c.disconnect();
    await Promise.allSettled(started.reverse().map((p) => p.stop()));
  };

  try {
    const kafka = createKafka(config, `processes-${namespace ?? "default"}`);
    const [bundle] = await Promise.all([bundleServices(logDir), ensureTopicsFor(kafka, layout)]);
    const launch = { bundle, logDir };
    const regionServers = await RegionRedisServers.start(
      regions,
      opts.redisServerBin ? { bin: opts.redisServerBin } : {},
    );
    started.push({ stop: () => regionServers.stopAll() });
    const servers = regions.map((r) => regionServers.of(r));
    const served = resolveLayout({
      ...opts,
      redisUrls: Object.fromEntries(regions.map((r, i) => [r, servers[i]!.url])),
    });
    const specs = serviceSpecs(config, served, opts);
    const { nodes, consumers, replicator, marketData } = await spawnAll(specs, regions, launch, started);
    const handles = regionHandles(layout, servers, nodes, consumers, clients);
    const schema = namespace ? schemaForNamespace(namespace) : undefined;
    const pool =
      (opts.critical ?? true)
        ? createPgPool(config.pgUrl, { max: 4, ...(schema ? { searchPath: schema } : {}) })
        : undefined;
    if (pool) started.push({ stop: () => pool.end() });

    const compareStates = (keys: readonly string[], among: readonly string[] = regions) =>
      compareRegionStates((r) => handles[r]!.redis, layout.keyPrefix, keys, among);

    return {
      layout: served,
      namespace,
      authHeaders: bearerHeaders(config.httpAuth?.token),
      regions: handles,
      replicator,
      marketData,
      logDir,
      critical: pool ? { schema, pool } : undefined,
      redisUrls: specs.redisUrls,
      compareStates,
      waitForConvergence: (keys, timeoutMs = 10_000) =>
        pollUntilConverged(() => compareStates(keys), timeoutMs, 100),
      ...consumerControls(handles, regions, (r) => spawnService(specs.consumerSpawn(r), launch), started),
      stop: stopAll,
    };
  } catch (err) {
    await stopAll();
    throw err;
  }
}

interface Stoppable {
  stop(): Promise<void>;
}

/**
 * Spawns every service, recording each in `started` as soon as it runs so a later failure stops it. The
 * first node creates the critical table; the other nodes start once it exists, then the consumers, the
 * replicator and the market-data producer.
 */
async function spawnAll(
  specs: ServiceSpecs,
  regions: readonly string[],
  launch: LaunchOptions,
  started: Stoppable[],
) {
  const first = await spawnService(specs.nodeSpawn(regions[0]!), launch);
  started.push(first);
  const rest = await Promise.all(regions.slice(1).map((r) => spawnService(specs.nodeSpawn(r), launch)));
  started.push(...rest);
  const nodes = [first, ...rest];
  const consumers = await Promise.all(regions.map((r) => spawnService(specs.consumerSpawn(r), launch)));
  started.push(...consumers);
  const replicator = await spawnService(specs.replicatorSpawn, launch);
  started.push(replicator);
  const marketData = specs.marketSpawn ? await spawnService(specs.marketSpawn, launch) : undefined;
  if (marketData) started.push(marketData);
  return { nodes, consumers, replicator, marketData };
}

/** One handle per region, each with a client of its Redis DB (pushed to `clients` for stop()). */
function regionHandles(
  layout: RegionLayout,
  servers: RedisServerProcess[],
  nodes: ServiceProcess[],
  consumers: ServiceProcess[],
  clients: Redis[],
): Record<string, ProcessRegion> {
  const handles: Record<string, ProcessRegion> = {};
  layout.regions.forEach((region, i) => {
    const redis = createRedis(servers[i]!.url, { db: layout.redisDbs[region]! });
    redis.on("error", () => undefined); // a killed region server is a test's fault, not ours to log
    clients.push(redis);
    handles[region] = {
      region,
      url: nodes[i]!.url,
      node: nodes[i]!,
      consumer: consumers[i],
      redisServer: servers[i]!,
      redis,
    };
  });
  return handles;
}

/** Stopping, restarting and watching the regions' consumer processes. */
function consumerControls(
  handles: Record<string, ProcessRegion>,
  regions: readonly string[],
  spawnConsumer: (region: string) => Promise<ServiceProcess>,
  started: Stoppable[],
): Pick<ProcessCluster, "followAppliedLag" | "stopConsumer" | "startConsumer"> {
  return {
    followAppliedLag(onLag, intervalMs) {
      const consumers = () =>
        regions.map((r) => {
          const c = handles[r]!.consumer;
          return c ? { region: r, url: c.url } : undefined;
        });
      return followLagMetrics(consumers, onLag, intervalMs);
    },
    async stopConsumer(region) {
      const h = handles[region]!;
      await h.consumer?.stop();
      h.consumer = undefined;
    },
    async startConsumer(region) {
      const h = handles[region]!;
      if (h.consumer) return;
      const consumer = await spawnConsumer(region);
      h.consumer = consumer;
      started.push(consumer);
    },
  };
}
