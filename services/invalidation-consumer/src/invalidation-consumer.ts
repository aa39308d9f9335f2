// A region's invalidation consumer: reads the region's `inbound` topic (other regions' updates, delivered
// by the replicator), merges each window of CacheUpdates into the region's Redis in one pipelined round
// trip (one Lua merge per key), and commits the offsets only after Redis acknowledged the merges. Replays after a crash are harmless: the merge is
// idempotent. A message that can never be applied (bad Avro, malformed CRDT state) goes to the dead-letter
// topic with the reason in its headers, and the consumer goes on.

import {
  AvroSerde,
  assertProgressing,
  ConsumerGroup,
  type ConsumerHealth,
  createKafka,
  ensureTopics,
  errorCodeOf,
  IdempotentProducer,
  registerConsumerMetrics,
  topicsFor,
} from "@meridian/bus";
import { type MeridianConfig, parseRegion } from "@meridian/core";
import {
  addObservabilityRoutes,
  createLogger,
  createRegistry,
  ensureTopicsFor,
  kafkaHealthCheck,
  type Logger,
  listen,
  type RegionLayout,
  type RegionLayoutOptions,
  Router,
  regionRedisUrl,
  resolveLayout,
  type StartedServer,
} from "@meridian/service-kit";
import { checkRedis, createRedis, type Redis } from "@meridian/store";
import type { Kafka } from "kafkajs";
import { appliedRecorder, type ConsumerMetrics, createConsumerMetrics } from "./consumer-metrics.js";
import type { AppliedEvent } from "./convergence.js";
import { mergeHandlers } from "./merge-records.js";
import { type ReplicationMode, sourceTopics } from "./sources.js";

export interface InvalidationConsumerOptions extends RegionLayoutOptions {
  region: string;
  config: MeridianConfig;
  port?: number | null;
  host?: string;
  groupId?: string;
  logger?: Logger;
  processMetrics?: boolean;
  kafka?: Kafka;
  serde?: AvroSerde;
  /** Records merged per pipelined Redis round trip (one window of a fetched batch). Default 500. */
  batchSize?: number;
  /** Records retried one by one at once after a failed window (different keys). Default 32. */
  concurrency?: number;
  /** Called after each merge — the cluster launcher feeds its convergence tracker from here. */
  onApplied?: (event: AppliedEvent) => void;
  /** `mirrormaker`: read MM2's remote topics of the other regions instead of the replicator's inbound topic. */
  replication?: ReplicationMode;
}

export interface InvalidationConsumerHandle {
  readonly region: string;
  readonly url: string | undefined;
  /** Resolves once the consumer joined its group. */
  ready(): Promise<void>;
  counts(): { applied: number; deadLettered: number };
  /** The supervised consumer's state: restarts, last progress, stalled. */
  health(): ConsumerHealth;
  stop(): Promise<void>;
}

/**
 * Bound on one Redis command of the consumer. Longer than a node's (1 s): a window's merge is a few script
 * calls of up to 128 merges each, queued behind the other regions' windows on a busy server; timing it out
 * early only makes the window run again on the same server.
 */
const MERGE_COMMAND_TIMEOUT_MS = 5_000;

export async function startInvalidationConsumer(
  opts: InvalidationConsumerOptions,
): Promise<InvalidationConsumerHandle> {
  const layout = resolveLayout(opts);
  const region = parseRegion(opts.region, layout.regions);
  const log = createLogger("invalidation-consumer", { region }, opts.logger);
  const registry = createRegistry({ service: "invalidation-consumer", region }, opts.processMetrics);
  const metrics = createConsumerMetrics(registry);

  const redis: Redis = createRedis(regionRedisUrl(layout, region, opts.config.redisUrl), {
    db: layout.redisDbs[region]!,
    auth: opts.config.redisAuth,
    commandTimeoutMs: MERGE_COMMAND_TIMEOUT_MS,
  });
  await checkRedis(redis);
  const k = await connectKafka(opts, layout, region);
  const serde = opts.serde ?? new AvroSerde(opts.config.schemaRegistryUrl);
  const groupId =
    opts.groupId ?? `${layout.namespace ? `${layout.namespace}.` : ""}meridian.invalidation.${region}`;
  const applied = appliedRecorder(metrics, region, opts.onApplied);
  const consumer = createConsumer(k, { opts, groupId, namespace: layout.namespace, redis, metrics, log });
  registerConsumerMetrics(registry, () => consumer.health());
  const { handleRecord, handleBatch } = mergeHandlers({
    redis,
    keyPrefix: layout.keyPrefix,
    serde,
    applied: applied.record,
  });
  await consumer.start(handleRecord, handleBatch);

  let server: StartedServer | undefined;
  if (opts.port !== null) {
    const router = addObservabilityRoutes(new Router(), registry, {
      redis: () => checkRedis(redis),
      kafka: k.health.check,
      consumer: async () => assertProgressing(consumer.health()),
    });
    server = await listen(router, opts.port ?? 0, opts.host ?? "127.0.0.1", log, {
      auth: opts.config.httpAuth,
    });
  }
  log.info({ groupId, topics: k.sources, db: layout.redisDbs[region], url: server?.url }, "consumer started");

  let stopped = false;
  return {
    region,
    url: server?.url,
    ready: async () => {},
    counts: () => ({ applied: applied.count(), deadLettered: consumer.deadLetteredCount() }),
    health: () => consumer.health(),
    async stop() {
      if (stopped) return;
      stopped = true;
      await server?.close();
      await consumer.stop().catch((err) => log.warn({ err }, "consumer stop failed"));
      await k.dlqProducer.disconnect().catch(() => undefined);
      await k.health.close().catch(() => undefined);
      redis.disconnect();
      log.info({ applied: applied.count(), deadLettered: consumer.deadLetteredCount() }, "consumer stopped");
    },
  };
}

interface ConsumerKafka {
  kafka: Kafka;
  /** The topics this region's consumer reads. */
  sources: string[];
  health: Awaited<ReturnType<typeof kafkaHealthCheck>>;
  dlqProducer: IdempotentProducer;
}

/** Topics created, the health-check admin and the dead-letter producer connected. */
async function connectKafka(
  opts: InvalidationConsumerOptions,
  layout: RegionLayout,
  region: string,
): Promise<ConsumerKafka> {
  const kafka = opts.kafka ?? createKafka(opts.config, `invalidation-consumer-${region}`);
  await ensureTopicsFor(kafka, layout);
  const sources = sourceTopics(layout, region, opts.replication ?? "replicator");
  // MM2 creates its remote topics when it first sees the origin; creating them here (same partition count)
  // lets the consumer start first.
  if (opts.replication === "mirrormaker") await ensureTopics(kafka, sources, { partitions: 3 });
  const health = await kafkaHealthCheck(kafka);
  const dlqProducer = new IdempotentProducer(kafka);
  await dlqProducer.connect();
  return { kafka, sources, health, dlqProducer };
}

/** The region's consumer group over its source topics, dead-lettering through `k.dlqProducer`. */
function createConsumer(
  k: ConsumerKafka,
  d: {
    opts: InvalidationConsumerOptions;
    groupId: string;
    namespace: string | undefined;
    redis: Redis;
    metrics: ConsumerMetrics;
    log: Logger;
  },
): ConsumerGroup {
  return new ConsumerGroup(k.kafka, {
    groupId: d.groupId,
    topics: k.sources,
    deadLetter: { topic: topicsFor(d.namespace).deadLetter, producer: k.dlqProducer },
    fromBeginning: true,
    // A window of records is merged in one pipelined Redis round trip; what fails is retried one by one
    // (different keys concurrently).
    batchSize: d.opts.batchSize ?? 500,
    concurrency: d.opts.concurrency ?? 32,
    logger: d.log,
    // A merge that fails while Redis is down is not the record's fault: retry it, never dead-letter it.
    backendCheck: () => checkRedis(d.redis),
    onDeadLetter: (_msg, err) => d.metrics.deadLetterTotal.inc({ code: errorCodeOf(err) }),
  });
}
