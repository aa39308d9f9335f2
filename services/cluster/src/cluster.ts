// startCluster: the five data centers on one machine, in one process — per region a region node (HTTP)
// and an invalidation consumer, plus one replicator (WAN latency + partitions) and the market-data
// producer. Used by the pipeline tests and by `pnpm demo`. See ../README.md for the contract.
// The parts live beside it: wiring.ts (services), children.ts (nodes / consumers as child processes),
// wan.ts (the WAN layer), states.ts (convergence checks), teardown.ts (stop order, purge).

import { AvroSerde, createKafka } from "@meridian/bus";
import { configFromEnv, InvalidInputError, type MeridianConfig, parseRegion } from "@meridian/core";
import type { AntiEntropy } from "@meridian/eventual";
import {
  type AppliedEvent,
  type ConvergenceSummary,
  ConvergenceTracker,
  type InvalidationConsumerHandle,
} from "@meridian/invalidation-consumer";
import { type MarketDataProducerHandle, startMarketDataProducer } from "@meridian/market-data-producer";
import type { RegionNodeHandle, StrongCriticalOptions } from "@meridian/region-node";
import { type ReplicatorHandle, startReplicator } from "@meridian/replicator";
import {
  bearerHeaders,
  createLogger,
  ensureTopicsFor,
  type Logger,
  type RegionLayout,
  resolveLayout,
} from "@meridian/service-kit";
import type { Redis } from "@meridian/store";
import type { LatencyMatrix } from "@meridian/wan";
import type { Kafka } from "kafkajs";
import { withAuthToken } from "./auth-token.js";
import { type ChildProcessOptions, type ClusterChildren, checkChildren } from "./children.js";
import { compareRegionStates, pollUntilConverged } from "./states.js";
import { purgeNamespace, type Stoppable, stopInOrder } from "./teardown.js";
import type { ClusterWan, ClusterWanOptions } from "./wan.js";
import {
  type ClusterContext,
  type CriticalBackend,
  externalReplicatorHandle,
  partitionedBy,
  type RegionParts,
  startAntiEntropy,
  startConsumer,
  startCriticalBackend,
  startRegion,
} from "./wiring.js";

export { stateFingerprint } from "./states.js";

export interface ClusterOptions {
  /** Region names (default: the five of @meridian/core REGIONS). */
  regions?: readonly string[];
  /** Isolates topics and Redis keys of this cluster (tests use a random one). */
  namespace?: string;
  /** Server addresses (default: configFromEnv()). */
  config?: MeridianConfig;
  redisDbs?: Record<string, number>;
  /**
   * A Redis server per region (`redis://host:port`), e.g. private ones a test kills; every service, the
   * inspection clients and purge() use the region's. A region not listed uses `config.redisUrl`.
   */
  redisUrls?: Record<string, string>;
  /** WAN one-way delays: a uniform number of ms or a partial matrix over the realistic defaults. */
  latencyMs?: number | Partial<LatencyMatrix>;
  /** Market data: false to run without the producer (default { symbols: 20, ticksPerSecond: 50 }). */
  marketData?: false | { symbols?: number; ticksPerSecond?: number; homeRegion?: string };
  /** Run no replicator here (a test runs services/replicator as a child process); `cluster.replicator` then throws. */
  externalReplicator?: boolean;
  /** Regions whose invalidation consumer is NOT started here (a test runs it as a child process). */
  externalConsumers?: readonly string[];
  /**
   * Regions whose region node / invalidation consumer the cluster runs as a child process (the service's
   * main.ts, environment from the layout) instead of in this process, so a test can SIGKILL or SIGSTOP it:
   * `cluster.children`. A child consumer's merges raise no `applied` events. Not with `wan`.
   */
  childProcesses?: ChildProcessOptions;
  /** Staleness bound of cacheable data (default 1000 ms). */
  cacheableTtlMs?: number;
  /** false: region nodes serve `cacheable` from the plain TtlCache instead of the coherent near cache. */
  cacheableCoherence?: boolean;
  /**
   * Anti-entropy across the regions' Redis (repairs what the stream missed, e.g. a lost or deleted entry).
   * Default on, a round every 2000 ms; false disables it.
   */
  antiEntropy?: false | { intervalMs?: number };
  /**
   * `critical` data through @meridian/strong (PostgreSQL + every region's Redis). Default: on, with the
   * table in schema `meridian_<namespace>` when a namespace is given. false: critical answers 501.
   */
  critical?: false | StrongCriticalOptions;
  /**
   * The WAN layer: every cross-region hop (forwarded critical requests, read-mostly invalidations and
   * fills, anti-entropy) crosses a TCP proxy with the replicator's latency matrix and obeys the cluster's
   * partitions; critical data gets home regions, one PostgreSQL schema per home. Default off (loopback:
   * the fast tests); the demo turns it on.
   */
  wan?: boolean | ClusterWanOptions;
  /** Fixed HTTP ports (default: free ports chosen by the OS). */
  ports?: { regionNodes?: Record<string, number>; replicator?: number; marketData?: number };
  logger?: Logger;
}

export interface RegionHandles {
  region: string;
  /** Base URL of the region node's HTTP API (in this process or a child process). */
  url: string;
  /** Undefined for external and child-process consumers, or while stopped by stopConsumer(). */
  consumer: InvalidationConsumerHandle | undefined;
  /** Direct client of the region's Redis DB (inspection; the cluster closes it). */
  redis: Redis;
  redisDb: number;
}

export interface Cluster {
  readonly layout: RegionLayout;
  readonly namespace: string | undefined;
  /** Headers that authenticate a client on the services' write (and, if configured, read) routes. */
  readonly authHeaders: Record<string, string>;
  readonly regions: Record<string, RegionHandles>;
  /** The region nodes running in this process (every region's but those in `childProcesses.nodes`). */
  readonly nodes: Record<string, RegionNodeHandle>;
  /** The nodes and consumers run as child processes (`childProcesses`). */
  readonly children: ClusterChildren;
  readonly replicator: ReplicatorHandle;
  readonly marketData: MarketDataProducerHandle | undefined;
  /**
   * The critical backend, when enabled: something to query its source-of-truth rows with (with the WAN on,
   * it reads each key's home schema) and the schema (undefined with the WAN on: one per home).
   */
  readonly critical: { schema: string | undefined; pool: CriticalRows } | undefined;
  /** The WAN layer and home regions, when `wan` is on. */
  readonly wan: ClusterWan | undefined;
  /** `applied` events from every consumer: { region, key, originRegion, outcome, lagMs, atMs }. */
  readonly events: ConvergenceTracker;
  /** The background anti-entropy (its `stats`), or undefined when disabled. */
  readonly antiEntropy: AntiEntropy | undefined;
  /** Per region p50 / p99 / max of write→merged-here lag over recent updates. */
  convergence(): Record<string, ConvergenceSummary>;
  /** For each key, whether every region's (or the listed regions') Redis holds the same CRDT state. */
  compareStates(
    keys: readonly string[],
    among?: readonly string[],
  ): Promise<{ converged: boolean; diverged: string[] }>;
  /** Polls compareStates until converged; resolves with the time it took, or throws after timeoutMs. */
  waitForConvergence(keys: readonly string[], timeoutMs?: number): Promise<number>;
  partition(region: string): void;
  heal(region: string): void;
  stopConsumer(region: string): Promise<void>;
  startConsumer(region: string): Promise<void>;
  stop(): Promise<void>;
  /**
   * After stop(): deletes what this namespaced run left behind — its Redis keys in every region DB, its
   * topics, and the critical data's PostgreSQL schema. Refuses without a namespace (shared data).
   */
  purge(): Promise<void>;
}

/** Source-of-truth rows of critical data (a pg pool, or the WAN layer's per-home reader). */
export interface CriticalRows {
  query(text: string, values: unknown[]): Promise<{ rows: Record<string, unknown>[] }>;
}

export async function startCluster(opts: ClusterOptions = {}): Promise<Cluster> {
  const config = withAuthToken(opts.config ?? configFromEnv());
  const layout = resolveLayout(opts);
  const { regions, namespace } = layout;
  for (const r of opts.externalConsumers ?? []) parseRegion(r, regions, "externalConsumers");
  checkChildren(opts, regions);
  checkMarketHome(opts.marketData, regions);
  const log = createLogger("cluster", { namespace }, opts.logger);
  const kafka: Kafka = createKafka(config, `meridian-cluster-${namespace ?? "default"}`);
  const serde = new AvroSerde(config.schemaRegistryUrl, {
    ...(config.schemaRegistryToken ? { token: config.schemaRegistryToken } : {}),
  });
  const ctx: ClusterContext = { config, layout, kafka, serde, log };
  await ensureTopicsFor(kafka, layout);
  const events = new ConvergenceTracker();
  const onApplied = (e: AppliedEvent): void => events.record(e);
  const started: Stoppable[] = [];
  const handles: Record<string, RegionHandles> = {};
  const parts: RegionParts = { nodes: {}, children: { nodes: {}, consumers: {} } };
  const disconnectAll = () => {
    for (const h of Object.values(handles)) h.redis.disconnect();
  };

  try {
    const backend = await startCriticalBackend(ctx, opts);
    const { strong, wan, ownPool } = backend;
    started.push(wan, strong && { stop: () => strong.close() }, ownPool && { stop: () => ownPool.end() });
    const replicator = await startClusterReplicator(ctx, opts);
    started.push(replicator);
    const stopRegions = () => stopRegionsOf(handles, parts);
    started.push({ stop: stopRegions });
    await startRegions(ctx, opts, backend, onApplied, handles, parts);
    const marketData = await startMarketData(ctx, opts);
    started.push(marketData);
    const antiEntropy = startAntiEntropy(ctx, opts, wan, handles, partitionedBy(replicator, opts));
    started.push(antiEntropy && { stop: async () => antiEntropy.stop() });

    const running = { backend, replicator, marketData, antiEntropy, handles, parts, events, onApplied };
    const cluster = clusterHandle(ctx, running, stopRegions, disconnectAll);
    log.info(
      {
        regions,
        urls: Object.fromEntries(Object.values(handles).map((h) => [h.region, h.url])),
        replicator: replicator.url,
      },
      "cluster started",
    );
    return cluster;
  } catch (err) {
    for (const s of started.reverse()) await s?.stop().catch(() => undefined);
    disconnectAll();
    throw err;
  }
}

/** What a started cluster is made of (its handle's fields and controls act on these). */
interface RunningCluster {
  backend: CriticalBackend;
  replicator: ReplicatorHandle;
  marketData: MarketDataProducerHandle | undefined;
  antiEntropy: AntiEntropy | undefined;
  handles: Record<string, RegionHandles>;
  parts: RegionParts;
  events: ConvergenceTracker;
  onApplied: (e: AppliedEvent) => void;
}

/** Consumers before nodes; each group at once. */
function stopRegionsOf(handles: Record<string, RegionHandles>, parts: RegionParts): Promise<void> {
  return stopInOrder([
    [...Object.values(handles).map((h) => h.consumer), ...Object.values(parts.children.consumers)],
    [...Object.values(parts.nodes), ...Object.values(parts.children.nodes)],
  ]);
}

/** Every region's node and consumer, started at once; resolves once they are ready for writes. */
async function startRegions(
  ctx: ClusterContext,
  opts: ClusterOptions,
  backend: CriticalBackend,
  onApplied: (e: AppliedEvent) => void,
  handles: Record<string, RegionHandles>,
  parts: RegionParts,
): Promise<void> {
  await Promise.all(
    ctx.layout.regions.map(async (region) => {
      handles[region] = await startRegion(ctx, opts, backend, region, onApplied, parts);
    }),
  );
  // Consumers must own their partitions before the caller writes, or the first merges wait a rebalance.
  await Promise.all(Object.values(handles).map((h) => h.consumer?.ready()));
  await Promise.all(Object.values(parts.nodes).map((n) => n.marketData?.ready()));
}

/** The Cluster handle over what startCluster started. */
function clusterHandle(
  ctx: ClusterContext,
  r: RunningCluster,
  stopRegions: () => Promise<void>,
  disconnectAll: () => void,
): Cluster {
  const { config, layout } = ctx;
  const { namespace } = layout;
  const { backend, replicator, handles } = r;
  const { wan, pgSchema } = backend;
  const compareStates = (keys: readonly string[], among: readonly string[] = layout.regions) =>
    compareRegionStates((region) => handles[region]!.redis, layout.keyPrefix, keys, among);
  return {
    layout,
    namespace,
    authHeaders: bearerHeaders(config.httpAuth?.token),
    regions: handles,
    nodes: r.parts.nodes,
    children: r.parts.children,
    replicator,
    marketData: r.marketData,
    critical: criticalRowsOf(backend),
    wan,
    events: r.events,
    antiEntropy: r.antiEntropy,
    convergence: () => r.events.stats(),
    compareStates,
    waitForConvergence: (keys, timeoutMs = 5000) =>
      pollUntilConverged(() => compareStates(keys), timeoutMs, 10),
    // One control: the replicator's links and the WAN proxies are cut and healed together.
    partition: (region) => {
      replicator.partition(region);
      wan?.network.partition(region);
    },
    heal: (region) => {
      replicator.heal(region);
      wan?.network.heal(region);
    },
    ...consumerControls(ctx, r),
    stop: stopCluster(ctx, r, stopRegions, disconnectAll),
    async purge() {
      if (!namespace) throw new InvalidInputError("purge() needs a namespaced cluster");
      await purgeNamespace(config, layout, pgSchema);
      await wan?.purge();
    },
  };
}

/** Stopping and restarting a region's in-process consumer. */
function consumerControls(
  ctx: ClusterContext,
  r: RunningCluster,
): Pick<Cluster, "stopConsumer" | "startConsumer"> {
  const handleOf = (region: string) => r.handles[parseRegion(region, ctx.layout.regions)]!;
  return {
    async stopConsumer(region) {
      const h = handleOf(region);
      await h.consumer?.stop();
      h.consumer = undefined;
    },
    async startConsumer(region) {
      const h = handleOf(region);
      if (h.consumer) return;
      if (r.parts.children.consumers[region]) {
        throw new InvalidInputError(
          `the consumer of ${region} is a child process: cluster.children.consumers`,
        );
      }
      h.consumer = await startConsumer(ctx, region, r.onApplied);
      await h.consumer.ready();
    },
  };
}

/** Stops everything once, in the reverse of start-up order, then closes the inspection clients. */
function stopCluster(
  ctx: ClusterContext,
  r: RunningCluster,
  stopRegions: () => Promise<void>,
  disconnectAll: () => void,
): () => Promise<void> {
  const { strong, ownPool, wan } = r.backend;
  const { antiEntropy } = r;
  let stopped = false;
  return async () => {
    if (stopped) return;
    stopped = true;
    await stopInOrder([
      [r.marketData],
      [antiEntropy && { stop: async () => antiEntropy.stop() }],
      [{ stop: stopRegions }],
      [r.replicator],
      [strong && { stop: () => strong.close() }, ownPool && { stop: () => ownPool.end() }],
      [wan],
    ]);
    disconnectAll();
    ctx.log.info("cluster stopped");
  };
}

/** A market-data home region, when given, is one of the cluster's (else no region would ingest ticks). */
export function checkMarketHome(marketData: ClusterOptions["marketData"], regions: readonly string[]): void {
  const home = marketData ? marketData.homeRegion : undefined;
  if (home !== undefined) parseRegion(home, regions, "marketData.homeRegion");
}

/** The replicator between the regions, or a stand-in when it runs outside (`externalReplicator`). */
async function startClusterReplicator(ctx: ClusterContext, opts: ClusterOptions): Promise<ReplicatorHandle> {
  if (opts.externalReplicator) return externalReplicatorHandle();
  return startReplicator({
    regions: ctx.layout.regions,
    namespace: ctx.layout.namespace,
    redisDbs: ctx.layout.redisDbs,
    config: ctx.config,
    kafka: ctx.kafka,
    port: opts.ports?.replicator ?? 0,
    logger: ctx.log,
    ...(opts.latencyMs !== undefined ? { latencyMs: opts.latencyMs } : {}),
  });
}

/** Where critical data's source-of-truth rows are: the strong tier's schema, the WAN layer's homes, or none. */
function criticalRowsOf(backend: CriticalBackend): Cluster["critical"] {
  if (backend.strong) return { schema: backend.strongSchema, pool: backend.strong.pool };
  return backend.wan?.geo ? { schema: undefined, pool: backend.wan.criticalRows } : undefined;
}

/** The market-data producer, unless `marketData: false`. */
async function startMarketData(
  ctx: ClusterContext,
  opts: ClusterOptions,
): Promise<MarketDataProducerHandle | undefined> {
  if (opts.marketData === false) return undefined;
  const market = opts.marketData ?? {};
  return startMarketDataProducer({
    config: ctx.config,
    namespace: ctx.layout.namespace,
    kafka: ctx.kafka,
    serde: ctx.serde,
    logger: ctx.log,
    port: opts.ports?.marketData ?? 0,
    ...(market.symbols !== undefined ? { symbols: market.symbols } : {}),
    ...(market.ticksPerSecond !== undefined ? { ticksPerSecond: market.ticksPerSecond } : {}),
  });
}
