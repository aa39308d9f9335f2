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
  type RegionLayoutOptions,
  Router,
  regionRedisUrl,
  resolveLayout,
  type StartedServer,
} from "@meridian/service-kit";
import { checkRedis, createRedis, type Redis } from "@meridian/store";
import type { Kafka } from "kafkajs";
import { Counter, Histogram } from "prom-client";
import type { AppliedEvent } from "./convergence.js";
import { type Decoded, mergeHandlers } from "./merge-records.js";
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
  const topics = topicsFor(layout.namespace);
  const log = createLogger("invalidation-consumer", { region }, opts.logger);
  const registry = createRegistry({ service: "invalidation-consumer", region }, opts.processMetrics);
  const appliedTotal = new Counter({
    name: "meridian_consumer_applied_total",
    help: "Inbound updates merged into the region's Redis, by merge outcome",
    labelNames: ["outcome"],
    registers: [registry],
  });
  const deadLetterTotal = new Counter({
    name: "meridian_consumer_dead_letter_total",
    help: "Inbound messages sent to the dead-letter topic",
    labelNames: ["code"],
    registers: [registry],
  });
  const lagHistogram = new Histogram({
    name: "meridian_convergence_lag_seconds",
    help: "Write at the origin region → merge acknowledged by this region's Redis",
    labelNames: ["origin"],
    buckets: [0.025, 0.05, 0.1, 0.15, 0.25, 0.5, 1, 2, 5, 10, 30],
    registers: [registry],
  });

  const redis: Redis = createRedis(regionRedisUrl(layout, region, opts.config.redisUrl), {
    db: layout.redisDbs[region]!,
    auth: opts.config.redisAuth,
    commandTimeoutMs: MERGE_COMMAND_TIMEOUT_MS,
  });
  await checkRedis(redis);
  const kafka = opts.kafka ?? createKafka(opts.config, `invalidation-consumer-${region}`);
  await ensureTopicsFor(kafka, layout);
  const sources = sourceTopics(layout, region, opts.replication ?? "replicator");
  // MM2 creates its remote topics when it first sees the origin; creating them here (same partition count)
  // lets the consumer start first.
  if (opts.replication === "mirrormaker") await ensureTopics(kafka, sources, { partitions: 3 });
  const kafkaHealth = await kafkaHealthCheck(kafka);
  const serde = opts.serde ?? new AvroSerde(opts.config.schemaRegistryUrl);
  const dlqProducer = new IdempotentProducer(kafka);
  await dlqProducer.connect();
  const groupId =
    opts.groupId ?? `${layout.namespace ? `${layout.namespace}.` : ""}meridian.invalidation.${region}`;

  let applied = 0;
  const recordApplied = (d: Decoded, outcome: string): void => {
    const now = Date.now();
    const lagMs = Math.max(0, now - Number(d.update.producedAtMs));
    applied += 1;
    appliedTotal.inc({ outcome });
    lagHistogram.observe({ origin: d.update.region }, lagMs / 1000);
    const releasedAt = Number(d.msg.headers["meridian-replicated-at-ms"]);
    opts.onApplied?.({
      region,
      key: d.update.key,
      originRegion: d.update.region,
      outcome,
      lagMs,
      ...(Number.isFinite(releasedAt) ? { inboundHopMs: now - releasedAt } : {}),
      atMs: now,
    });
  };

  const consumer = new ConsumerGroup(kafka, {
    groupId,
    topics: sources,
    deadLetter: { topic: topics.deadLetter, producer: dlqProducer },
    fromBeginning: true,
    // A window of records is merged in one pipelined Redis round trip; what fails is retried one by one
    // (different keys concurrently).
    batchSize: opts.batchSize ?? 500,
    concurrency: opts.concurrency ?? 32,
    logger: log,
    // A merge that fails while Redis is down is not the record's fault: retry it, never dead-letter it.
    backendCheck: () => checkRedis(redis),
    onDeadLetter: (_msg, err) => deadLetterTotal.inc({ code: errorCodeOf(err) }),
  });
  registerConsumerMetrics(registry, () => consumer.health());
  const { handleRecord, handleBatch } = mergeHandlers({
    redis,
    keyPrefix: layout.keyPrefix,
    serde,
    applied: recordApplied,
  });
  await consumer.start(handleRecord, handleBatch);

  let server: StartedServer | undefined;
  if (opts.port !== null) {
    const router = addObservabilityRoutes(new Router(), registry, {
      redis: () => checkRedis(redis),
      kafka: kafkaHealth.check,
      consumer: async () => assertProgressing(consumer.health()),
    });
    server = await listen(router, opts.port ?? 0, opts.host ?? "127.0.0.1", log, {
      auth: opts.config.httpAuth,
    });
  }
  log.info({ groupId, topics: sources, db: layout.redisDbs[region], url: server?.url }, "consumer started");

  let stopped = false;
  return {
    region,
    url: server?.url,
    ready: async () => {},
    counts: () => ({ applied, deadLettered: consumer.deadLetteredCount() }),
    health: () => consumer.health(),
    async stop() {
      if (stopped) return;
      stopped = true;
      await server?.close();
      await consumer.stop().catch((err) => log.warn({ err }, "consumer stop failed"));
      await dlqProducer.disconnect().catch(() => undefined);
      await kafkaHealth.close().catch(() => undefined);
      redis.disconnect();
      log.info({ applied, deadLettered: consumer.deadLetteredCount() }, "consumer stopped");
    },
  };
}
