// The replicator bridges the simulated data centers: it consumes every region's `updates` topic and
// produces each message into every other region's `inbound` topic after that link's WAN delay. This file
// wires it: the consuming side (intake.ts), the WAN links and batched produce requests (forwarder.ts),
// the offset commits, the admin API (replicator-admin.ts) and metrics (replicator-metrics.ts).
//
// Delivery guarantee: at-least-once with idempotent merges downstream. Messages are taken a fetched batch
// at a time and forwarded in produce requests of up to 500 messages per destination, each link in source
// order. A source offset is committed only after the message was acknowledged (acks=all, idempotent
// producer) by every destination's inbound topic, so a crash or restart re-reads what was not fully
// delivered; re-delivered copies are no-ops in applyRemoteUpdate (vector-clock dominance / duplicate
// detection). Kafka transactions are not used: a partition holds some links' messages for seconds while
// others flow, so one consume→produce transaction per message would serialize the links, and the
// idempotent merge already makes duplicates harmless.

import {
  assertProgressing,
  createKafka,
  IdempotentProducer,
  registerConsumerMetrics,
  SupervisedConsumer,
  topicsFor,
} from "@meridian/bus";
import type { MeridianConfig } from "@meridian/core";
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
import type { Kafka } from "kafkajs";
import { type Delivery, Forwarder } from "./forwarder.js";
import { commitAcknowledged, Intake } from "./intake.js";
import { OffsetTracker } from "./offset-tracker.js";
import { addAdminRoutes } from "./replicator-admin.js";
import { type ChunkLimits, DEFAULT_CHUNK_LIMITS } from "./replicator-chunks.js";
import { replicatorControls } from "./replicator-control.js";
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

export async function startReplicator(opts: ReplicatorOptions): Promise<ReplicatorHandle> {
  const layout = resolveLayout(opts);
  const { regions } = layout;
  const topics = topicsFor(layout.namespace);
  const log = createLogger("replicator", {}, opts.logger);
  const latency = { matrix: mergeLatency(defaultLatencyMatrix(regions), regions, opts.latencyMs) };
  const links = new WanLinks<Delivery>((from, to) => latency.matrix[from]?.[to] ?? 0);
  const tracker = new OffsetTracker();

  const registry = createRegistry({ service: "replicator" }, opts.processMetrics);
  const metrics = createReplicatorMetrics(registry);
  for (const r of regions) metrics.partitionedGauge.set({ region: r }, 0);

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
      // A rebalance waits this long for members that do not rejoin — e.g. a killed replicator (kafkajs'
      // default is 60 s). Taking a batch only queues it on the links, so members rejoin in milliseconds.
      rebalanceTimeout: 10_000,
    },
    logger: log,
  });
  registerConsumerMetrics(registry, () => supervisor.health());

  let intake: Intake | undefined;
  const forwarder = new Forwarder({
    links,
    tracker,
    producers,
    inboundTopic: (to) => topics.inbound(to),
    chunkLimits: { ...DEFAULT_CHUNK_LIMITS, ...opts.chunkLimits },
    metrics,
    log,
    afterSend: () => intake?.maybeResume(),
  });
  intake = new Intake(supervisor, {
    regions,
    regionOfTopic: new Map(regions.map((r) => [topics.updates(r), r])),
    links,
    tracker,
    forwarder,
    metrics,
    log,
    maxHeld: opts.maxHeld ?? 200_000,
  });
  const running = intake;
  await supervisor.start((consumer) => running.run(consumer));

  const commit = () => commitAcknowledged(supervisor, tracker, log);
  const commitTimer = setInterval(() => void commit(), opts.commitIntervalMs ?? 200);
  const gaugeTimer = setInterval(() => {
    metrics.heldGauge.reset();
    for (const [link, n] of Object.entries(links.depths())) metrics.heldGauge.set({ link }, n);
  }, 1000);

  let stopped = false;
  let server: StartedServer | undefined;
  const handle: ReplicatorHandle = {
    url: undefined,
    ...replicatorControls({ regions, latency, links, tracker, forwarder, metrics, log }),
    async stop() {
      if (stopped) return;
      stopped = true;
      forwarder.stop();
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
      log.info({ forwarded: forwarder.forwarded, unfinished: tracker.inFlight() }, "replicator stopped");
    },
  };

  if (opts.port !== null) {
    const router = addObservabilityRoutes(new Router(), registry, {
      kafka: kafkaHealth.check,
      consumer: async () => assertProgressing(supervisor.health()),
    });
    addAdminRoutes(router, handle);
    server = await listen(router, opts.port ?? 0, opts.host ?? "127.0.0.1", log, {
      auth: opts.config.httpAuth,
    });
    (handle as { url: string | undefined }).url = server.url;
  }
  log.info({ regions, namespace: layout.namespace, url: handle.url }, "replicator started");
  return handle;
}
