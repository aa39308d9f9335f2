// Wiring the services of an in-process cluster: the critical backend (strong tier or the WAN layer's
// home regions), one region's node + invalidation consumer (in this process or as child processes), the
// replicator stand-in, and anti-entropy.
import type { AvroSerde } from "@meridian/bus";
import { InvalidInputError, type MeridianConfig } from "@meridian/core";
import { AntiEntropy, pgWriterIncarnations, type WriterIncarnationSource } from "@meridian/eventual";
import {
  type AppliedEvent,
  type InvalidationConsumerHandle,
  startInvalidationConsumer,
} from "@meridian/invalidation-consumer";
import {
  crdtTypeForKey,
  createStrongCritical,
  openSchemaPool,
  type RegionNodeHandle,
  type StrongCritical,
  schemaForNamespace,
  startRegionNode,
} from "@meridian/region-node";
import type { ReplicatorHandle } from "@meridian/replicator";
import { type Logger, type RegionLayout, regionRedisUrl } from "@meridian/service-kit";
import { createRedis, type PgPool, type Redis } from "@meridian/store";
import type { Kafka } from "kafkajs";
import { type ClusterChildren, startChildConsumer, startChildNode } from "./children.js";
import type { ClusterOptions, RegionHandles } from "./cluster.js";
import { type ClusterWan, startClusterWan } from "./wan.js";

/** What every service of the cluster shares. */
export interface ClusterContext {
  config: MeridianConfig;
  layout: RegionLayout;
  kafka: Kafka;
  serde: AvroSerde;
  log: Logger;
}

const layoutOptions = ({ layout }: ClusterContext) => ({
  regions: layout.regions,
  namespace: layout.namespace,
  redisDbs: layout.redisDbs,
  redisUrls: layout.redisUrls,
});

/** What the regions started: in-process nodes, and the nodes / consumers run as child processes. */
export interface RegionParts {
  nodes: Record<string, RegionNodeHandle>;
  children: ClusterChildren;
}

export interface CriticalBackend {
  strong: StrongCritical | undefined;
  wan: ClusterWan | undefined;
  /** The strong tier's PostgreSQL schema (undefined with the WAN on: one per home). */
  strongSchema: string | undefined;
  /** The node's PostgreSQL schema: the critical table (with the strong tier) and writer incarnations. */
  pgSchema: string | undefined;
  /** Writer incarnations of important data, from PostgreSQL with or without the strong tier. */
  incarnations: WriterIncarnationSource;
  /** The pool opened for incarnations alone when there is no strong tier (the caller ends it). */
  ownPool: PgPool | undefined;
}

/** The WAN layer when `wan` is on (critical data behind home regions), else the strong tier unless disabled. */
export async function startCriticalBackend(
  ctx: ClusterContext,
  opts: ClusterOptions,
): Promise<CriticalBackend> {
  const { namespace } = ctx.layout;
  const pgSchema =
    (opts.critical || undefined)?.schema ?? (namespace ? schemaForNamespace(namespace) : undefined);
  const strongSchema = opts.critical === false || opts.wan ? undefined : pgSchema;
  const tier = await startStrongOrWan(ctx, opts, strongSchema);
  const ownPool = tier.strong
    ? undefined
    : await openSchemaPool(ctx.config, { max: 2, ...(pgSchema ? { schema: pgSchema } : {}) });
  const incarnations = pgWriterIncarnations(tier.strong?.pool ?? ownPool!);
  return { ...tier, strongSchema, pgSchema, incarnations, ownPool };
}

async function startStrongOrWan(
  ctx: ClusterContext,
  opts: ClusterOptions,
  strongSchema: string | undefined,
): Promise<Pick<CriticalBackend, "strong" | "wan">> {
  if (opts.wan) {
    const wan = await startClusterWan(ctx.config, ctx.layout, {
      ...(opts.wan === true ? {} : opts.wan),
      ...(opts.latencyMs !== undefined ? { latencyMs: opts.latencyMs } : {}),
      critical: opts.critical !== false,
    });
    return { strong: undefined, wan };
  }
  if (opts.critical === false) return { strong: undefined, wan: undefined };
  const strong = await createStrongCritical(ctx.config, ctx.layout, {
    ...(opts.critical ?? {}),
    ...(strongSchema ? { schema: strongSchema } : {}),
  });
  return { strong, wan: undefined };
}

export function startConsumer(
  ctx: ClusterContext,
  region: string,
  onApplied: (e: AppliedEvent) => void,
): Promise<InvalidationConsumerHandle> {
  return startInvalidationConsumer({
    ...layoutOptions(ctx),
    region,
    config: ctx.config,
    kafka: ctx.kafka,
    serde: ctx.serde,
    onApplied,
    port: 0,
    logger: ctx.log,
  });
}

/**
 * One region: its node and, unless external, its invalidation consumer — each in this process or, when
 * `childProcesses` names the region, as a child process — plus an inspection client of its Redis. What
 * started is in `parts` at once (the caller stops it, also when a later part fails).
 */
export async function startRegion(
  ctx: ClusterContext,
  opts: ClusterOptions,
  backend: CriticalBackend,
  region: string,
  onApplied: (e: AppliedEvent) => void,
  parts: RegionParts,
): Promise<RegionHandles> {
  let url: string;
  if (opts.childProcesses?.nodes?.includes(region)) {
    const child = await startChildNode(ctx, opts, region, backend.pgSchema);
    parts.children.nodes[region] = child;
    url = child.current!.url;
  } else {
    const node = await startNode(ctx, opts, backend, region);
    parts.nodes[region] = node;
    url = node.url;
  }
  let consumer: InvalidationConsumerHandle | undefined;
  if (opts.childProcesses?.consumers?.includes(region)) {
    parts.children.consumers[region] = await startChildConsumer(ctx, opts, region);
  } else if (!opts.externalConsumers?.includes(region)) {
    consumer = await startConsumer(ctx, region, onApplied);
  }
  const redisDb = ctx.layout.redisDbs[region]!;
  const redis: Redis = createRedis(regionRedisUrl(ctx.layout, region, ctx.config.redisUrl), {
    db: redisDb,
    auth: ctx.config.redisAuth,
  });
  return { region, url, consumer, redis, redisDb };
}

/** The region node in this process: critical through the WAN router when on, else on the strong tier's pool. */
function startNode(
  ctx: ClusterContext,
  opts: ClusterOptions,
  backend: CriticalBackend,
  region: string,
): Promise<RegionNodeHandle> {
  const { strong, wan, incarnations } = backend;
  const critical = wan?.criticalFor(region);
  const table = opts.critical ? opts.critical.table : undefined;
  const criticalPg = strong && !critical ? { pool: strong.pool, ...(table ? { table } : {}) } : undefined;
  const marketOpts = opts.marketData === false ? undefined : (opts.marketData ?? {});
  const homeRegion = marketOpts?.homeRegion ?? ctx.layout.regions[0]!;
  return startRegionNode({
    ...layoutOptions(ctx),
    region,
    config: ctx.config,
    kafka: ctx.kafka,
    serde: ctx.serde,
    port: opts.ports?.regionNodes?.[region] ?? 0,
    logger: ctx.log,
    ingestMarketData: marketOpts !== undefined && region === homeRegion,
    ...(opts.cacheableTtlMs !== undefined ? { cacheableTtlMs: opts.cacheableTtlMs } : {}),
    ...(opts.cacheableCoherence !== undefined ? { cacheableCoherence: opts.cacheableCoherence } : {}),
    ...(critical ? { critical } : {}),
    ...(criticalPg ? { criticalPg } : {}),
    incarnations,
  });
}

/** Anti-entropy across the regions' Redis, unless disabled; with the WAN on, rounds run from the first region across it. */
export function startAntiEntropy(
  ctx: ClusterContext,
  opts: ClusterOptions,
  wan: ClusterWan | undefined,
  handles: Record<string, RegionHandles>,
  unreachable: () => readonly string[],
): AntiEntropy | undefined {
  const { regions, keyPrefix } = ctx.layout;
  if (opts.antiEntropy === false || regions.length < 2) return undefined;
  const antiEntropy = new AntiEntropy(
    regions.map((r) => ({
      region: r,
      redis: wan ? wan.redisFrom(regions[0]!, r) : handles[r]!.redis,
      keyPrefix,
    })),
    {
      intervalMs: opts.antiEntropy?.intervalMs ?? 2000,
      // OR-set tombstones every region has seen are dropped (bounded pass per round; eventual README).
      collectTombstones: { isOrSetKey: (key) => crdtTypeForKey(key) === "orset" },
      onError: (err) => ctx.log.warn({ err }, "anti-entropy round failed"),
      // Rounds read every region's Redis directly; a region the replicator cuts off is cut off here too.
      unreachable,
    },
  );
  antiEntropy.start();
  return antiEntropy;
}

/** The regions the cluster's replicator partitions now (none known when it runs outside the cluster). */
export function partitionedBy(replicator: ReplicatorHandle, opts: ClusterOptions): () => readonly string[] {
  if (opts.externalReplicator) return () => [];
  return () => replicator.status().partitions;
}

/** Stand-in when the replicator runs outside the cluster: no url, stop() is a no-op, the rest throws. */
export function externalReplicatorHandle(): ReplicatorHandle {
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
