// startCluster: the five data centers on one machine, in one process — per region a region node (HTTP)
// and an invalidation consumer, plus one replicator (WAN latency + partitions) and the market-data
// producer. Used by the pipeline tests and by `pnpm demo`. See ../README.md for the contract.
// The parts live beside it: wiring.ts (services), wan.ts (the WAN layer), states.ts (convergence
// checks), teardown.ts (stop order, purge).

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
import type { LatencyMatrix } from "@meridian/replicator";
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
import type { Kafka } from "kafkajs";
import { withAuthToken } from "./auth-token.js";
import { compareRegionStates, pollUntilConverged } from "./states.js";
import { purgeNamespace, type Stoppable, stopInOrder } from "./teardown.js";
import type { ClusterWan, ClusterWanOptions } from "./wan.js";
import {
  type ClusterContext,
  externalReplicatorHandle,
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
  /** WAN one-way delays: a uniform number of ms or a partial matrix over the realistic defaults. */
  latencyMs?: number | Partial<LatencyMatrix>;
  /** Market data: false to run without the producer (default { symbols: 20, ticksPerSecond: 50 }). */
  marketData?: false | { symbols?: number; ticksPerSecond?: number; homeRegion?: string };
  /** Run no replicator here (a test runs services/replicator as a child process); `cluster.replicator` then throws. */
  externalReplicator?: boolean;
  /** Regions whose invalidation consumer is NOT started here (a test runs it as a child process). */
  externalConsumers?: readonly string[];
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
  /** Base URL of the region node's HTTP API. */
  url: string;
  node: RegionNodeHandle;
  /** Undefined for external consumers, or while stopped by stopConsumer(). */
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
  const disconnectAll = () => {
    for (const h of Object.values(handles)) h.redis.disconnect();
  };

  try {
    const backend = await startCriticalBackend(ctx, opts);
    const { strong, wan, strongSchema, pgSchema, ownPool } = backend;
    started.push(wan, strong && { stop: () => strong.close() }, ownPool && { stop: () => ownPool.end() });
    const replicator = opts.externalReplicator
      ? externalReplicatorHandle()
      : await startReplicator({
          regions,
          namespace,
          redisDbs: layout.redisDbs,
          config,
          kafka,
          port: opts.ports?.replicator ?? 0,
          logger: log,
          ...(opts.latencyMs !== undefined ? { latencyMs: opts.latencyMs } : {}),
        });
    started.push(replicator);
    await Promise.all(
      regions.map(async (region) => {
        const h = await startRegion(ctx, opts, backend, region, onApplied);
        handles[region] = h;
        started.push(h.node, h.consumer);
      }),
    );
    // Consumers must own their partitions before the caller writes, or the first merges wait a rebalance.
    await Promise.all(Object.values(handles).map((h) => h.consumer?.ready()));
    await Promise.all(Object.values(handles).map((h) => h.node.marketData?.ready()));
    const marketData = await startMarketData(ctx, opts);
    started.push(marketData);
    const antiEntropy = startAntiEntropy(ctx, opts, wan, handles);
    started.push(antiEntropy && { stop: async () => antiEntropy.stop() });

    const compareStates = (keys: readonly string[], among: readonly string[] = regions) =>
      compareRegionStates((r) => handles[r]!.redis, layout.keyPrefix, keys, among);
    const handleOf = (region: string) => handles[parseRegion(region, regions)]!;
    let stopped = false;
    const cluster: Cluster = {
      layout,
      namespace,
      authHeaders: bearerHeaders(config.httpAuth?.token),
      regions: handles,
      replicator,
      marketData,
      critical: strong
        ? { schema: strongSchema, pool: strong.pool }
        : wan?.geo
          ? { schema: undefined, pool: wan.criticalRows }
          : undefined,
      wan,
      events,
      antiEntropy,
      convergence: () => events.stats(),
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
      async stopConsumer(region) {
        const h = handleOf(region);
        await h.consumer?.stop();
        h.consumer = undefined;
      },
      async startConsumer(region) {
        const h = handleOf(region);
        if (h.consumer) return;
        h.consumer = await startConsumer(ctx, region, onApplied);
        await h.consumer.ready();
      },
      async stop() {
        if (stopped) return;
        stopped = true;
        const all = Object.values(handles);
        await stopInOrder([
          [marketData],
          [antiEntropy && { stop: async () => antiEntropy.stop() }],
          all.map((h) => h.consumer),
          all.map((h) => h.node),
          [replicator],
          [strong && { stop: () => strong.close() }, ownPool && { stop: () => ownPool.end() }],
          [wan],
        ]);
        disconnectAll();
        log.info("cluster stopped");
      },
      async purge() {
        if (!namespace) throw new InvalidInputError("purge() needs a namespaced cluster");
        await purgeNamespace(config, layout, pgSchema);
        await wan?.purge();
      },
    };
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

/** A market-data home region, when given, is one of the cluster's (else no region would ingest ticks). */
export function checkMarketHome(marketData: ClusterOptions["marketData"], regions: readonly string[]): void {
  const home = marketData ? marketData.homeRegion : undefined;
  if (home !== undefined) parseRegion(home, regions, "marketData.homeRegion");
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
