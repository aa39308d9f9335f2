// A region's invalidation consumer: reads the region's `inbound` topic (other regions' updates, delivered
// by the replicator), merges each CacheUpdate into the region's Redis with applyRemoteUpdate, and commits
// the offset only after Redis acknowledged the merge. Replays after a crash are harmless: the merge is
// idempotent. A message that can never be applied (bad Avro, malformed CRDT state) goes to the dead-letter
// topic with the reason in its headers, and the consumer goes on.

import { AvroSerde, type CacheUpdate, createKafka, IdempotentProducer, topicsFor } from "@meridian/bus";
import { InvalidInputError, type MeridianConfig, MeridianError, SerializationError } from "@meridian/core";
import {
  applyRemoteUpdate,
  entryFromUpdate,
  resolveEntries,
  type StoredEntry,
  updateFromEntry,
} from "@meridian/eventual";
import {
  addObservabilityRoutes,
  type ConsumedMessage,
  createLogger,
  createRegistry,
  ensureTopicsFor,
  kafkaHealthCheck,
  type Logger,
  listen,
  type RegionLayoutOptions,
  RetryingConsumer,
  Router,
  resolveLayout,
  type StartedServer,
} from "@meridian/service-kit";
import { checkRedis, createRedis, type Redis } from "@meridian/store";
import type { Kafka } from "kafkajs";
import { Counter, Histogram } from "prom-client";
import { asCacheUpdate } from "./cache-update-shape.js";
import type { AppliedEvent } from "./convergence.js";

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
  /** Merges in flight per partition (different keys; one key's updates stay in order). Default 32. */
  concurrency?: number;
  /** Called after each merge — the cluster launcher feeds its convergence tracker from here. */
  onApplied?: (event: AppliedEvent) => void;
}

export interface InvalidationConsumerHandle {
  readonly region: string;
  readonly url: string | undefined;
  /** Resolves once the consumer joined its group. */
  ready(): Promise<void>;
  counts(): { applied: number; deadLettered: number };
  stop(): Promise<void>;
}

/** Header names on a dead-lettered message. */
export const DLQ_HEADERS = {
  reason: "meridian-dlq-reason",
  errorCode: "meridian-dlq-error-code",
  sourceTopic: "meridian-dlq-source-topic",
  sourcePartition: "meridian-dlq-source-partition",
  sourceOffset: "meridian-dlq-source-offset",
  consumer: "meridian-dlq-consumer",
  atMs: "meridian-dlq-at-ms",
} as const;

/** Errors that replaying cannot fix (typed and not retriable): the message itself is bad. Anything else is retried. */
function isPoison(err: unknown): err is MeridianError {
  return err instanceof MeridianError && !err.retriable;
}

export async function startInvalidationConsumer(
  opts: InvalidationConsumerOptions,
): Promise<InvalidationConsumerHandle> {
  const layout = resolveLayout(opts);
  const { region } = opts;
  if (!layout.regions.includes(region))
    throw new InvalidInputError(`unknown region ${region}`, { region, regions: layout.regions });
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

  const redis: Redis = createRedis(opts.config.redisUrl, { db: layout.redisDbs[region]! });
  await checkRedis(redis);
  const kafka = opts.kafka ?? createKafka(opts.config, `invalidation-consumer-${region}`);
  await ensureTopicsFor(kafka, layout);
  const kafkaHealth = await kafkaHealthCheck(kafka);
  const serde = opts.serde ?? new AvroSerde(opts.config.schemaRegistryUrl);
  const dlqProducer = new IdempotentProducer(kafka);
  await dlqProducer.connect();
  const groupId =
    opts.groupId ?? `${layout.namespace ? `${layout.namespace}.` : ""}meridian.invalidation.${region}`;
  const consumer = new RetryingConsumer(kafka, {
    groupId,
    topics: [topics.inbound(region)],
    logger: log,
    // Merges of different keys are independent; running them concurrently hides Redis round trips.
    concurrency: opts.concurrency ?? 32,
  });

  let applied = 0;
  let deadLettered = 0;

  const deadLetter = async (msg: ConsumedMessage, err: MeridianError): Promise<void> => {
    await dlqProducer.send(topics.deadLetter, [
      {
        key: msg.key ?? "",
        value: msg.value ?? Buffer.alloc(0),
        headers: {
          ...msg.headers,
          [DLQ_HEADERS.reason]: err.message,
          [DLQ_HEADERS.errorCode]: err.code,
          [DLQ_HEADERS.sourceTopic]: msg.topic,
          [DLQ_HEADERS.sourcePartition]: String(msg.partition),
          [DLQ_HEADERS.sourceOffset]: msg.offset,
          [DLQ_HEADERS.consumer]: groupId,
          [DLQ_HEADERS.atMs]: String(Date.now()),
        },
      },
    ]);
    deadLettered += 1;
    deadLetterTotal.inc({ code: err.code });
    log.warn(
      { code: err.code, reason: err.message, offset: msg.offset, partition: msg.partition },
      "dead-lettered",
    );
  };

  interface Decoded {
    msg: ConsumedMessage;
    update: CacheUpdate;
  }

  /** Decodes and validates one message; a poison message is dead-lettered and yields null. */
  const decode = async (msg: ConsumedMessage): Promise<Decoded | null> => {
    try {
      if (!msg.value || msg.value.length === 0) throw new SerializationError("empty message value");
      const update = asCacheUpdate(await serde.decode(msg.value));
      entryFromUpdate(update, Date.now()); // throws InvalidInputError for a malformed CRDT state / clock
      return { msg, update };
    } catch (err) {
      if (isPoison(err)) {
        await deadLetter(msg, err);
        return null;
      }
      throw err;
    }
  };

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

  const applyOne = async (d: Decoded): Promise<void> => {
    try {
      recordApplied(d, await applyRemoteUpdate(redis, layout.keyPrefix, d.update));
    } catch (err) {
      if (isPoison(err)) return deadLetter(d.msg, err);
      throw err;
    }
  };

  /**
   * Several updates of one key in a row are folded into one (CRDT merge + clock join, the same
   * resolution applyRemoteUpdate does) and written once: far fewer Redis round trips when a hot key
   * changes in several regions, and the same final state as applying them one by one.
   */
  const applyRun = async (run: Decoded[]): Promise<void> => {
    if (run.length === 1) return applyOne(run[0]!);
    let folded: StoredEntry | null = null;
    try {
      const now = Date.now();
      for (const d of run) folded = resolveEntries(folded, entryFromUpdate(d.update, now).entry, now).entry;
    } catch (err) {
      if (!isPoison(err)) throw err;
      for (const d of run) await applyOne(d); // mixed CRDT types: let each one succeed or fail alone
      return;
    }
    const last = run[run.length - 1]!.update;
    const update = {
      ...updateFromEntry(last.key, folded!, "UPDATE", folded!.region, Date.now()),
      producedAtMs: last.producedAtMs,
    };
    const outcome = await applyRemoteUpdate(redis, layout.keyPrefix, update);
    for (const d of run) recordApplied(d, outcome);
  };

  const handleChain = async (msgs: ConsumedMessage[]): Promise<void> => {
    const decoded: Decoded[] = [];
    for (const msg of msgs) {
      const d = await decode(msg);
      if (d) decoded.push(d);
    }
    // Fold runs of plain UPDATEs; ROLLBACK / INVALIDATE keep their own semantics and order.
    let run: Decoded[] = [];
    for (const d of decoded) {
      if (d.update.kind === "UPDATE") {
        run.push(d);
        continue;
      }
      if (run.length) await applyRun(run);
      run = [];
      await applyOne(d);
    }
    if (run.length) await applyRun(run);
  };

  const handleMessage = (msg: ConsumedMessage): Promise<void> => handleChain([msg]);

  await consumer.start(handleMessage, handleChain);

  let server: StartedServer | undefined;
  if (opts.port !== null) {
    const router = addObservabilityRoutes(new Router(), registry, {
      redis: () => checkRedis(redis),
      kafka: kafkaHealth.check,
      consumer: async () => consumer.check(),
    });
    server = await listen(router, opts.port ?? 0, opts.host ?? "127.0.0.1", log);
  }
  log.info(
    { groupId, topic: topics.inbound(region), db: layout.redisDbs[region], url: server?.url },
    "consumer started",
  );

  let stopped = false;
  return {
    region,
    url: server?.url,
    ready: () => consumer.whenJoined(),
    counts: () => ({ applied, deadLettered }),
    async stop() {
      if (stopped) return;
      stopped = true;
      await server?.close();
      await consumer.stop().catch((err) => log.warn({ err }, "consumer stop failed"));
      await dlqProducer.disconnect().catch(() => undefined);
      await kafkaHealth.close().catch(() => undefined);
      redis.disconnect();
      log.info({ applied, deadLettered }, "consumer stopped");
    },
  };
}
