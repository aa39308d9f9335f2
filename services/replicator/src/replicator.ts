// The replicator bridges the simulated data centers: it consumes every region's `updates` topic and
// produces each message into every other region's `inbound` topic after that link's WAN delay. This file
// wires it: the Kafka clients (replicator-kafka.ts), the consuming side (intake.ts), the WAN links and
// batched produce requests (forwarder.ts), the offset commits, the admin API (replicator-admin.ts) and
// metrics (replicator-metrics.ts).
//
// Delivery guarantee: at-least-once with idempotent merges downstream. Messages are taken a fetched batch
// at a time and forwarded in produce requests of up to 500 messages per destination, each link in source
// order. A source offset is committed only after the message was acknowledged (acks=all, idempotent
// producer) by every destination's inbound topic, so a crash or restart re-reads what was not fully
// delivered; re-delivered copies are no-ops in applyRemoteUpdate (vector-clock dominance / duplicate
// detection). Kafka transactions are not used: a partition holds some links' messages for seconds while
// others flow, so one consume→produce transaction per message would serialize the links, and the
// idempotent merge already makes duplicates harmless.

import { assertProgressing, registerConsumerMetrics, topicsFor } from "@meridian/bus";
import type { MeridianConfig } from "@meridian/core";
import {
  addObservabilityRoutes,
  createLogger,
  createRegistry,
  type Logger,
  listen,
  type RegionLayoutOptions,
  Router,
  resolveLayout,
  type StartedServer,
} from "@meridian/service-kit";
import { defaultLatencyMatrix, type LatencyMatrix, mergeLatency } from "@meridian/wan";
import type { Kafka } from "kafkajs";
import type { Registry } from "prom-client";
import { type Delivery, Forwarder } from "./forwarder.js";
import { commitAcknowledged, Intake } from "./intake.js";
import { OffsetTracker } from "./offset-tracker.js";
import { addAdminRoutes } from "./replicator-admin.js";
import { type ChunkLimits, DEFAULT_CHUNK_LIMITS } from "./replicator-chunks.js";
import { replicatorControls } from "./replicator-control.js";
import {
  connectReplicatorKafka,
  disconnectReplicatorKafka,
  type ReplicatorKafka,
} from "./replicator-kafka.js";
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
  const log = createLogger("replicator", {}, opts.logger);
  const latency = { matrix: mergeLatency(defaultLatencyMatrix(regions), regions, opts.latencyMs) };
  const links = new WanLinks<Delivery>((from, to) => latency.matrix[from]?.[to] ?? 0);
  const tracker = new OffsetTracker();

  const registry = createRegistry({ service: "replicator" }, opts.processMetrics);
  const metrics = createReplicatorMetrics(registry);
  for (const r of regions) metrics.partitionedGauge.set({ region: r }, 0);

  const k = await connectReplicatorKafka(opts, layout, log);
  registerConsumerMetrics(registry, () => k.supervisor.health());
  const wiring = { regions, links, tracker, metrics, log };
  const forwarder = await startForwarding(k, wiring, layout.namespace, opts);
  const commit = () => commitAcknowledged(k.supervisor, tracker, log);
  const stopTimers = startTimers(commit, wiring, opts.commitIntervalMs ?? 200);

  let stopped = false;
  let server: StartedServer | undefined;
  const handle: ReplicatorHandle = {
    url: undefined,
    ...replicatorControls({ ...wiring, latency, forwarder }),
    async stop() {
      if (stopped) return;
      stopped = true;
      forwarder.stop();
      stopTimers();
      await server?.close();
      await commit();
      await disconnectReplicatorKafka(k, log);
      log.info({ forwarded: forwarder.forwarded, unfinished: tracker.inFlight() }, "replicator stopped");
    },
  };

  if (opts.port !== null) {
    server = await serveAdmin(handle, registry, k, opts, log);
    (handle as { url: string | undefined }).url = server.url;
  }
  log.info({ regions, namespace: layout.namespace, url: handle.url }, "replicator started");
  return handle;
}

/** What the consuming side, the links and the forwarder share. */
interface Wiring {
  regions: string[];
  links: WanLinks<Delivery>;
  tracker: OffsetTracker;
  metrics: ReturnType<typeof createReplicatorMetrics>;
  log: Logger;
}

/** Builds the forwarder and the intake around it, then starts consuming. */
async function startForwarding(
  k: ReplicatorKafka,
  w: Wiring,
  namespace: string | undefined,
  opts: Pick<ReplicatorOptions, "chunkLimits" | "maxHeld">,
): Promise<Forwarder> {
  const topics = topicsFor(namespace);
  let intake: Intake | undefined;
  const forwarder = new Forwarder({
    links: w.links,
    tracker: w.tracker,
    producers: k.producers,
    inboundTopic: (to) => topics.inbound(to),
    chunkLimits: { ...DEFAULT_CHUNK_LIMITS, ...opts.chunkLimits },
    metrics: w.metrics,
    log: w.log,
    afterSend: () => intake?.maybeResume(),
  });
  intake = new Intake(k.supervisor, {
    regions: w.regions,
    regionOfTopic: new Map(w.regions.map((r) => [topics.updates(r), r])),
    links: w.links,
    tracker: w.tracker,
    forwarder,
    metrics: w.metrics,
    log: w.log,
    maxHeld: opts.maxHeld ?? 200_000,
  });
  const running = intake;
  await k.supervisor.start((consumer) => running.run(consumer));
  return forwarder;
}

/** Periodic offset commits and the held-messages gauge; returns the function that stops both. */
function startTimers(commit: () => Promise<void>, w: Wiring, commitIntervalMs: number): () => void {
  const commitTimer = setInterval(() => void commit(), commitIntervalMs);
  const gaugeTimer = setInterval(() => {
    w.metrics.heldGauge.reset();
    for (const [link, n] of Object.entries(w.links.depths())) w.metrics.heldGauge.set({ link }, n);
  }, 1000);
  return () => {
    clearInterval(commitTimer);
    clearInterval(gaugeTimer);
  };
}

/** /metrics, /healthz (Kafka reachable, consumer progressing) and the /admin routes. */
function serveAdmin(
  handle: ReplicatorHandle,
  registry: Registry,
  k: ReplicatorKafka,
  opts: ReplicatorOptions,
  log: Logger,
): Promise<StartedServer> {
  const router = addObservabilityRoutes(new Router(), registry, {
    kafka: k.health.check,
    consumer: async () => assertProgressing(k.supervisor.health()),
  });
  addAdminRoutes(router, handle);
  return listen(router, opts.port ?? 0, opts.host ?? "127.0.0.1", log, { auth: opts.config.httpAuth });
}
