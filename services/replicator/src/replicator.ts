// The replicator bridges the simulated data centers: it consumes every region's `updates` topic and
// produces each message into every other region's `inbound` topic after that link's WAN delay.
//
// Delivery guarantee: at-least-once with idempotent merges downstream. A source offset is committed only
// after the message was acknowledged (acks=all, idempotent producer) by every destination's inbound
// topic, so a crash or restart re-reads what was not fully delivered; re-delivered copies are no-ops in
// applyRemoteUpdate (vector-clock dominance / duplicate detection). Kafka transactions are not used: a
// partition holds some links' messages for seconds while others flow, so one consume→produce transaction
// per message would serialize the links, and the idempotent merge already makes duplicates harmless.

import {
  assertProgressing,
  createKafka,
  headersToStrings,
  IdempotentProducer,
  registerConsumerMetrics,
  SupervisedConsumer,
  topicsFor,
} from "@meridian/bus";
import { InvalidInputError, type MeridianConfig } from "@meridian/core";
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
  resolveLayout,
  type StartedServer,
} from "@meridian/service-kit";
import { defaultLatencyMatrix, type LatencyMatrix, mergeLatency } from "@meridian/wan";
import type { Consumer, Kafka } from "kafkajs";
import { OffsetTracker } from "./offset-tracker.js";
import { addAdminRoutes } from "./replicator-admin.js";
import {
  type ChunkLimits,
  chunkBySize,
  DEFAULT_CHUNK_LIMITS,
  estimateRecordBytes,
} from "./replicator-chunks.js";
import { createReplicatorMetrics } from "./replicator-metrics.js";
import { WanLinks } from "./wan-links.js";

export interface ReplicatorOptions extends RegionLayoutOptions {
  config: MeridianConfig;
  /** Uniform one-way delay in ms, or a (partial) matrix over the defaults. */
  latencyMs?: number | Partial<LatencyMatrix>;
  /** HTTP port for /metrics, /healthz and /admin (0 = any free port; null = no HTTP). */
  port?: number | null;
  host?: string;
  groupId?: string;
  /** Pause consuming while this many messages wait on the links (default 200 000). */
  maxHeld?: number;
  commitIntervalMs?: number;
  /** Bounds of one produce request into an inbound topic (default ≤ 500 messages, ≤ 900 KB). */
  chunkLimits?: Partial<ChunkLimits>;
  logger?: Logger;
  processMetrics?: boolean;
  kafka?: Kafka;
}

export interface ReplicatorStatus {
  partitions: string[];
  held: Record<string, number>;
  inFlight: number;
  forwarded: number;
  latencyMs: LatencyMatrix;
}

export interface ReplicatorHandle {
  readonly url: string | undefined;
  partition(region: string): void;
  heal(region: string): void;
  setLatency(latency: number | Partial<LatencyMatrix>): void;
  status(): ReplicatorStatus;
  /** Resolves when every message received so far has reached all its destinations (or the timeout passes). */
  drain(timeoutMs?: number): Promise<boolean>;
  stop(): Promise<void>;
}

interface Delivery {
  sourceTopic: string;
  partition: number;
  offset: string;
  remaining: number;
  key: string | null;
  value: Buffer | null;
  headers: Record<string, string>;
}

export async function startReplicator(opts: ReplicatorOptions): Promise<ReplicatorHandle> {
  const layout = resolveLayout(opts);
  const { regions } = layout;
  const topics = topicsFor(layout.namespace);
  const log = createLogger("replicator", {}, opts.logger);
  let latency = mergeLatency(defaultLatencyMatrix(regions), regions, opts.latencyMs);
  const links = new WanLinks<Delivery>((from, to) => latency[from]?.[to] ?? 0);
  const tracker = new OffsetTracker();
  const regionOfTopic = new Map(regions.map((r) => [topics.updates(r), r]));
  const maxHeld = opts.maxHeld ?? 200_000;
  const chunkLimits: ChunkLimits = { ...DEFAULT_CHUNK_LIMITS, ...opts.chunkLimits };

  const registry = createRegistry({ service: "replicator" }, opts.processMetrics);
  const { forwardedTotal, heldGauge, partitionedGauge, linkDelay, consumeLag, produceErrors } =
    createReplicatorMetrics(registry);
  for (const r of regions) partitionedGauge.set({ region: r }, 0);

  const kafka = opts.kafka ?? createKafka(opts.config, `replicator-${layout.namespace ?? "default"}`);
  await ensureTopicsFor(kafka, layout);
  const kafkaHealth = await kafkaHealthCheck(kafka);
  // One producer per destination: an idempotent producer has one request in flight, so a single shared
  // one would serialize all twenty links; per destination, only the links into one region share it.
  const producers = new Map(regions.map((r) => [r, new IdempotentProducer(kafka)]));
  await Promise.all([...producers.values()].map((p) => p.connect()));
  // Supervised: a crash kafkajs would not recover from replaces the consumer instead of ending replication.
  const supervisor = new SupervisedConsumer(kafka, {
    config: {
      groupId: opts.groupId ?? `${layout.namespace ? `${layout.namespace}.` : ""}meridian.replicator`,
      // Short session: after a crash the restarted replicator gets the partitions back in seconds.
      sessionTimeout: 6_000,
      heartbeatInterval: 1_000,
    },
    logger: log,
  });
  registerConsumerMetrics(registry, () => supervisor.health());

  let forwarded = 0;
  let stopped = false;
  let paused = false;
  // Destinations with a produce request in flight (one at a time per destination keeps each link FIFO).
  const busy = new Set<string>();
  const isBusy = (_from: string, to: string): boolean => busy.has(to);
  const receivedAt = new WeakMap<Delivery, number>();
  let timer: NodeJS.Timeout | undefined;
  let timerAt = Number.POSITIVE_INFINITY;

  const schedulePump = (): void => {
    if (stopped) return;
    const next = links.nextDueAt(isBusy);
    if (next === undefined || next >= timerAt) return;
    if (timer) clearTimeout(timer);
    timerAt = next;
    timer = setTimeout(pump, Math.max(0, next - Date.now()));
  };

  const pump = (): void => {
    timer = undefined;
    timerAt = Number.POSITIVE_INFINITY;
    if (stopped) return;
    // One produce request per destination: every link into it contributes its due prefix.
    const byDestination = new Map<string, { from: string; items: Delivery[] }[]>();
    for (const batch of links.takeDue(Date.now(), isBusy)) {
      const list = byDestination.get(batch.to) ?? [];
      list.push({ from: batch.from, items: batch.items });
      byDestination.set(batch.to, list);
    }
    for (const [to, parts] of byDestination) {
      busy.add(to);
      void deliver(to, parts);
    }
    schedulePump();
  };

  // Sends a destination's due messages as consecutive produce requests (chunks) small enough for the
  // broker, one after another so each key keeps its order. A message counts as delivered to `to` only
  // once its chunk is acknowledged, so its source offset becomes committable only after that (and after
  // every other destination acked it too). On a failure the failed chunk and all later ones go back to
  // the head of their links, in order, and are retried.
  const deliver = async (to: string, parts: { from: string; items: Delivery[] }[]): Promise<void> => {
    const releasedAt = String(Date.now());
    const records = parts.flatMap(({ from, items }) =>
      items.map((d) => ({
        from,
        delivery: d,
        message: {
          key: d.key ?? "",
          value: d.value ?? Buffer.alloc(0),
          headers: {
            ...d.headers,
            "meridian-origin-region": from,
            "meridian-source": `${d.sourceTopic}/${d.partition}/${d.offset}`,
            "meridian-replicated-at-ms": releasedAt,
          },
        },
      })),
    );
    const chunks = chunkBySize(records, (r) => estimateRecordBytes(r.message), chunkLimits);
    let sent = 0;
    try {
      for (const chunk of chunks) {
        await producers.get(to)!.send(
          topics.inbound(to),
          chunk.map((r) => r.message),
        );
        sent += 1;
        const now = Date.now();
        for (const { from, delivery: d } of chunk) {
          linkDelay.observe({ from, to }, (now - (receivedAt.get(d) ?? now)) / 1000);
          d.remaining -= 1;
          if (d.remaining === 0) tracker.finish(d.sourceTopic, d.partition, d.offset);
          forwardedTotal.inc({ from, to });
        }
        forwarded += chunk.length;
      }
      busy.delete(to);
    } catch (err) {
      // Keep the unacknowledged messages at the head of their links and retry: nothing is dropped, order is kept.
      const unsent = chunks.slice(sent).flat();
      produceErrors.inc();
      log.warn(
        { err, to, count: unsent.length, chunk: sent, chunks: chunks.length },
        "produce to inbound failed; retrying",
      );
      const byLink = new Map<string, Delivery[]>();
      for (const r of unsent) {
        const list = byLink.get(r.from) ?? [];
        list.push(r.delivery);
        byLink.set(r.from, list);
      }
      for (const [from, items] of byLink) links.requeueFront(from, to, items);
      await new Promise((r) => setTimeout(r, 500));
      busy.delete(to);
    }
    maybeResume();
    schedulePump();
  };

  const maybeResume = (): void => {
    if (paused && links.size() < maxHeld / 2) {
      paused = false;
      supervisor.current().resume([...regionOfTopic.keys()].map((topic) => ({ topic })));
    }
  };

  const commit = async (): Promise<void> => {
    const offsets = tracker.committable();
    if (offsets.length === 0) return;
    try {
      await supervisor.current().commitOffsets(offsets);
      tracker.markCommitted(offsets);
      supervisor.progressed();
    } catch (err) {
      log.warn({ err }, "offset commit failed (rebalance?); will retry");
    }
  };

  // A replaced consumer re-reads every partition from its last commit: what this one tracked is void.
  supervisor.onRestart(() => {
    for (const { topic, partition } of tracker.partitions()) tracker.forget(topic, partition);
    paused = false;
  });
  const watchAssignments = (consumer: Consumer): void => {
    consumer.on(consumer.events.GROUP_JOIN, (e) => {
      const assigned = e.payload.memberAssignment as Record<string, number[]>;
      // Partitions revoked in a rebalance belong to another member now: it re-reads them from the last
      // committed offset, so this instance must neither wait for nor commit them.
      for (const { topic, partition } of tracker.partitions()) {
        if (!assigned[topic]?.includes(partition)) tracker.forget(topic, partition);
      }
      log.info({ assigned }, "replicator joined group");
    });
  };

  await supervisor.start(async (consumer) => {
    watchAssignments(consumer);
    await consumer.subscribe({ topics: [...regionOfTopic.keys()], fromBeginning: true });
    await runConsumer(consumer);
  });

  async function runConsumer(consumer: Consumer): Promise<void> {
    await consumer.run({
      autoCommit: false,
      partitionsConsumedConcurrently: 3,
      eachMessage: async ({ topic, partition, message }) => {
        const from = regionOfTopic.get(topic);
        if (!from) return;
        const delivery: Delivery = {
          sourceTopic: topic,
          partition,
          offset: message.offset,
          remaining: regions.length - 1,
          key: message.key ? message.key.toString("utf8") : null,
          value: message.value,
          headers: headersToStrings(message.headers),
        };
        tracker.begin(topic, partition, message.offset);
        const now = Date.now();
        consumeLag.observe({ from }, Math.max(0, now - Number(message.timestamp)) / 1000);
        receivedAt.set(delivery, now);
        for (const to of regions) if (to !== from) links.enqueue(from, to, delivery, now);
        if (!paused && links.size() >= maxHeld) {
          paused = true;
          consumer.pause([...regionOfTopic.keys()].map((t) => ({ topic: t })));
          log.warn({ held: links.size() }, "too many held messages; pausing consumption");
        }
        schedulePump();
      },
    });
  }

  const commitTimer = setInterval(() => void commit(), opts.commitIntervalMs ?? 200);
  const gaugeTimer = setInterval(() => {
    heldGauge.reset();
    for (const [link, n] of Object.entries(links.depths())) heldGauge.set({ link }, n);
  }, 1000);

  const checkRegion = (region: string): void => {
    if (!regions.includes(region))
      throw new InvalidInputError(`unknown region "${region}"`, { region, regions });
  };

  const handle: ReplicatorHandle = {
    url: undefined,
    partition(region) {
      checkRegion(region);
      links.partition(region);
      partitionedGauge.set({ region }, 1);
      log.info({ region }, "region partitioned: its links hold messages");
    },
    heal(region) {
      checkRegion(region);
      links.heal(region);
      partitionedGauge.set({ region }, 0);
      log.info({ region, held: links.size() }, "region healed: releasing held messages");
      schedulePump();
    },
    setLatency(next) {
      latency = mergeLatency(latency, regions, next);
      log.info({ latency }, "latency matrix changed");
    },
    status() {
      return {
        partitions: links.partitions(),
        held: links.depths(),
        inFlight: tracker.inFlight(),
        forwarded,
        latencyMs: latency,
      };
    },
    async drain(timeoutMs = 10_000) {
      const deadline = Date.now() + timeoutMs;
      while (Date.now() < deadline) {
        if (tracker.inFlight() === 0) return true;
        await new Promise((r) => setTimeout(r, 20));
      }
      return tracker.inFlight() === 0;
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      if (timer) clearTimeout(timer);
      clearInterval(commitTimer);
      clearInterval(gaugeTimer);
      await server?.close();
      await commit();
      await supervisor.stop().catch((err) => log.warn({ err }, "consumer disconnect failed"));
      await Promise.all(
        [...producers.values()].map((p) =>
          p.disconnect().catch((err) => log.warn({ err }, "producer disconnect failed")),
        ),
      );
      await kafkaHealth.close();
      log.info({ forwarded, unfinished: tracker.inFlight() }, "replicator stopped");
    },
  };

  let server: StartedServer | undefined;
  if (opts.port !== null) {
    const router = addObservabilityRoutes(new Router(), registry, {
      kafka: kafkaHealth.check,
      consumer: async () => assertProgressing(supervisor.health()),
    });
    addAdminRoutes(router, handle, regions);
    server = await listen(router, opts.port ?? 0, opts.host ?? "127.0.0.1", log, {
      auth: opts.config.httpAuth,
    });
    (handle as { url: string | undefined }).url = server.url;
  }
  log.info({ regions, namespace: layout.namespace, url: handle.url }, "replicator started");
  return handle;
}
