// startCluster: the five data centers on one machine, in one process — per region a region node (HTTP)
// and an invalidation consumer, plus one replicator (WAN latency + partitions) and the market-data
// producer. Used by the pipeline tests and by `pnpm demo`. See ../README.md for the contract.

import { AvroSerde, createKafka } from "@meridian/bus";
import { canonicalJson, configFromEnv, InvalidInputError, type MeridianConfig } from "@meridian/core";
import { AntiEntropy, pgWriterIncarnations, readEntry } from "@meridian/eventual";
import {
  type AppliedEvent,
  type ConvergenceSummary,
  ConvergenceTracker,
  type InvalidationConsumerHandle,
  startInvalidationConsumer,
} from "@meridian/invalidation-consumer";
import { type MarketDataProducerHandle, startMarketDataProducer } from "@meridian/market-data-producer";
import {
  createStrongCritical,
  openSchemaPool,
  type RegionNodeHandle,
  type StrongCritical,
  type StrongCriticalOptions,
  schemaForNamespace,
  startRegionNode,
} from "@meridian/region-node";
import type { LatencyMatrix } from "@meridian/replicator";
import { type ReplicatorHandle, startReplicator } from "@meridian/replicator";
import {
  bearerHeaders,
  createLogger,
  ensureTopicsFor,
  type Logger,
  pipelineTopicNames,
  type RegionLayout,
  regionRedisUrl,
  resolveLayout,
} from "@meridian/service-kit";
import { createPgPool, createRedis, deleteKeysWithPrefix, type Redis } from "@meridian/store";
import type { Kafka } from "kafkajs";
import { withAuthToken } from "./auth-token.js";
import { type ClusterWan, type ClusterWanOptions, startClusterWan } from "./wan.js";

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

/** Canonical JSON of a region's copy of `key`, or null when absent. */
export async function stateFingerprint(redis: Redis, keyPrefix: string, key: string): Promise<string | null> {
  const entry = await readEntry(redis, keyPrefix, key);
  return entry ? canonicalJson(entry.crdt.toJSON()) : null;
}

export async function startCluster(opts: ClusterOptions = {}): Promise<Cluster> {
  const config = withAuthToken(opts.config ?? configFromEnv());
  const layout = resolveLayout(opts);
  const { regions, namespace } = layout;
  const log = createLogger("cluster", { namespace }, opts.logger);
  const external = new Set(opts.externalConsumers ?? []);
  for (const r of external) if (!regions.includes(r)) throw new InvalidInputError(`unknown region ${r}`);
  const marketOpts = opts.marketData === false ? undefined : (opts.marketData ?? {});
  const homeRegion = marketOpts?.homeRegion ?? regions[0]!;
  const kafka: Kafka = createKafka(config, `meridian-cluster-${namespace ?? "default"}`);
  const serde = new AvroSerde(config.schemaRegistryUrl, {
    ...(config.schemaRegistryToken ? { token: config.schemaRegistryToken } : {}),
  });
  await ensureTopicsFor(kafka, layout);
  const events = new ConvergenceTracker();
  const onApplied = (e: AppliedEvent): void => events.record(e);
  const started: { stop(): Promise<void> }[] = [];
  const handles: Record<string, RegionHandles> = {};

  const layoutOpts = { regions, namespace, redisDbs: layout.redisDbs };
  const consumerFor = (region: string) =>
    startInvalidationConsumer({
      ...layoutOpts,
      region,
      config,
      kafka,
      serde,
      onApplied,
      port: 0,
      logger: log,
    });

  let strong: StrongCritical | undefined;
  let wan: ClusterWan | undefined;
  // The node's PostgreSQL schema: the critical table (with the strong tier) and writer incarnations (always).
  const pgSchema =
    (opts.critical || undefined)?.schema ?? (namespace ? schemaForNamespace(namespace) : undefined);
  const strongSchema = opts.critical === false || opts.wan ? undefined : pgSchema;
  try {
    if (opts.wan) {
      wan = await startClusterWan(config, layout, {
        ...(opts.wan === true ? {} : opts.wan),
        ...(opts.latencyMs !== undefined ? { latencyMs: opts.latencyMs } : {}),
        critical: opts.critical !== false,
      });
      started.push(wan);
    } else if (opts.critical !== false) {
      strong = await createStrongCritical(config, layout, {
        ...(opts.critical ?? {}),
        ...(strongSchema ? { schema: strongSchema } : {}),
      });
      started.push({ stop: () => strong!.close() });
    }
    // Writer incarnations of important data come from PostgreSQL with or without the strong tier.
    let incarnationPool = strong?.pool;
    if (!incarnationPool) {
      const own = await openSchemaPool(config, { max: 2, ...(pgSchema ? { schema: pgSchema } : {}) });
      started.push({ stop: () => own.end() });
      incarnationPool = own;
    }
    const incarnations = pgWriterIncarnations(incarnationPool);
    const replicator = opts.externalReplicator
      ? externalReplicatorHandle()
      : await startReplicator({
          ...layoutOpts,
          config,
          kafka,
          port: opts.ports?.replicator ?? 0,
          logger: log,
          ...(opts.latencyMs !== undefined ? { latencyMs: opts.latencyMs } : {}),
        });
    started.push(replicator);
    await Promise.all(
      regions.map(async (region) => {
        // critical: with the WAN layer, through the region's home-region router; otherwise through the
        // node's client (coherent L1 under leases) on the strong tier's pool.
        const critical = wan?.criticalFor(region);
        const table = opts.critical ? opts.critical.table : undefined;
        const criticalPg =
          strong && !critical ? { pool: strong.pool, ...(table ? { table } : {}) } : undefined;
        const node = await startRegionNode({
          ...layoutOpts,
          region,
          config,
          kafka,
          serde,
          port: opts.ports?.regionNodes?.[region] ?? 0,
          logger: log,
          ingestMarketData: marketOpts !== undefined && region === homeRegion,
          ...(opts.cacheableTtlMs !== undefined ? { cacheableTtlMs: opts.cacheableTtlMs } : {}),
          ...(opts.cacheableCoherence !== undefined ? { cacheableCoherence: opts.cacheableCoherence } : {}),
          ...(critical ? { critical } : {}),
          ...(criticalPg ? { criticalPg } : {}),
          incarnations,
        });
        started.push(node);
        const consumer = external.has(region) ? undefined : await consumerFor(region);
        if (consumer) started.push(consumer);
        handles[region] = {
          region,
          url: node.url,
          node,
          consumer,
          redis: createRedis(regionRedisUrl(layout, region, config.redisUrl), {
            db: layout.redisDbs[region]!,
            auth: config.redisAuth,
          }),
          redisDb: layout.redisDbs[region]!,
        };
      }),
    );
    // Consumers must own their partitions before the caller writes, or the first merges wait a rebalance.
    await Promise.all(Object.values(handles).map((h) => h.consumer?.ready()));
    await Promise.all(Object.values(handles).map((h) => h.node.marketData?.ready()));
    const marketData = marketOpts
      ? await startMarketDataProducer({
          config,
          namespace,
          kafka,
          serde,
          logger: log,
          port: opts.ports?.marketData ?? 0,
          ...(marketOpts.symbols !== undefined ? { symbols: marketOpts.symbols } : {}),
          ...(marketOpts.ticksPerSecond !== undefined ? { ticksPerSecond: marketOpts.ticksPerSecond } : {}),
        })
      : undefined;

    const antiEntropy =
      opts.antiEntropy === false || regions.length < 2
        ? undefined
        : new AntiEntropy(
            // With the WAN on, the rounds run from the first region and reach the others across it.
            regions.map((r) => ({
              region: r,
              redis: wan ? wan.redisFrom(regions[0]!, r) : handles[r]!.redis,
              keyPrefix: layout.keyPrefix,
            })),
            {
              intervalMs: opts.antiEntropy?.intervalMs ?? 2000,
              onError: (err) => log.warn({ err }, "anti-entropy round failed"),
            },
          );
    antiEntropy?.start();
    started.push({ stop: async () => antiEntropy?.stop() });

    const compareStates = async (keys: readonly string[], among: readonly string[] = regions) => {
      // All keys × regions in parallel: one poll costs about one Redis round trip, so the time at which
      // convergence is observed stays close to the time it happened.
      const results = await Promise.all(
        keys.map(async (key) => {
          const states = await Promise.all(
            among.map((r) => stateFingerprint(handles[r]!.redis, layout.keyPrefix, key)),
          );
          return states.some((s) => s === null || s !== states[0]) ? key : null;
        }),
      );
      const diverged = results.filter((k): k is string => k !== null);
      return { converged: diverged.length === 0, diverged };
    };

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
      async waitForConvergence(keys, timeoutMs = 5000) {
        const startedAt = Date.now();
        for (;;) {
          const { converged, diverged } = await compareStates(keys);
          if (converged) return Date.now() - startedAt;
          if (Date.now() - startedAt > timeoutMs) {
            throw new Error(
              `not converged after ${timeoutMs} ms: ${diverged.length} keys differ (${diverged.slice(0, 5).join(", ")})`,
            );
          }
          await new Promise((r) => setTimeout(r, 10));
        }
      },
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
        const h = handles[region];
        if (!h) throw new InvalidInputError(`unknown region ${region}`);
        await h.consumer?.stop();
        h.consumer = undefined;
      },
      async startConsumer(region) {
        const h = handles[region];
        if (!h) throw new InvalidInputError(`unknown region ${region}`);
        if (h.consumer) return;
        h.consumer = await consumerFor(region);
        await h.consumer.ready();
      },
      async stop() {
        if (stopped) return;
        stopped = true;
        await marketData?.stop();
        await antiEntropy?.stop();
        await Promise.all(Object.values(handles).map((h) => h.consumer?.stop()));
        await Promise.all(Object.values(handles).map((h) => h.node.stop()));
        await replicator.stop();
        await strong?.close();
        await wan?.stop();
        for (const h of Object.values(handles)) h.redis.disconnect();
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
    for (const s of started.reverse()) await s.stop().catch(() => undefined);
    for (const h of Object.values(handles)) h.redis.disconnect();
    throw err;
  }
}

/** Stand-in when the replicator runs outside the cluster: no url, stop() is a no-op, the rest throws. */
function externalReplicatorHandle(): ReplicatorHandle {
  const external = (): never => {
    throw new InvalidInputError("the replicator of this cluster runs externally (externalReplicator: true)");
  };
  return {
    url: undefined,
    partition: external,
    heal: external,
    setLatency: external,
    status: external,
    drain: external,
    stop: async () => undefined,
  };
}

/** Deletes a namespaced run's Redis keys (every region DB), topics and PostgreSQL schema. Best effort per part. */
async function purgeNamespace(
  config: MeridianConfig,
  layout: RegionLayout,
  schema: string | undefined,
): Promise<void> {
  for (const db of new Set(Object.values(layout.redisDbs))) {
    const redis = createRedis(config.redisUrl, { db, auth: config.redisAuth });
    try {
      await deleteKeysWithPrefix(redis, layout.keyPrefix);
    } finally {
      redis.disconnect();
    }
  }
  const kafka = createKafka(config, `meridian-purge-${layout.namespace}`);
  const admin = kafka.admin();
  await admin.connect();
  try {
    const existing = new Set(await admin.listTopics());
    const topics = pipelineTopicNames(layout).filter((t) => existing.has(t));
    if (topics.length) await admin.deleteTopics({ topics, timeout: 10_000 });
  } catch {
    // Leftover topics of a namespaced run harm nobody.
  } finally {
    await admin.disconnect();
  }
  if (schema) {
    const pool = createPgPool(config.pgUrl, { max: 1, auth: config.pgAuth });
    try {
      await pool.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    } finally {
      await pool.end();
    }
  }
}
