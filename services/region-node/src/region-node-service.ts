// startRegionNode: the HTTP service of one region — GET/PUT /v1/:class/:key over createRegionNode, plus
// /healthz and /metrics. Optionally ingests market ticks from Kafka into the region's `important` cache.

import { assertProgressing, createKafka, registerConsumerMetrics } from "@meridian/bus";
import type { DataClass } from "@meridian/core";
import { InvalidInputError, NotImplementedError } from "@meridian/core";
import {
  addObservabilityRoutes,
  createLogger,
  createRegistry,
  errorResponse,
  errorToResponse,
  type HttpRequest,
  type HttpResponse,
  kafkaHealthCheck,
  type Logger,
  listen,
  type Router,
} from "@meridian/service-kit";
import { checkRedis } from "@meridian/store";
import { Counter, Histogram, type Registry } from "prom-client";
import { parseDataClass } from "./keyspace.js";
import { registerL1Metrics } from "./l1-metrics.js";
import type { Ledger } from "./ledger.js";
import { type MarketDataIngestHandle, startMarketDataIngest } from "./market-data-ingest.js";
import { createRegionNode, type ReadOptions, type RegionNode, type RegionNodeConfig } from "./region-node.js";
import { OPENAPI_INFO, regionNodeRouter } from "./region-node-api.js";

export interface RegionNodeServiceOptions extends RegionNodeConfig {
  port?: number;
  host?: string;
  logger?: Logger;
  processMetrics?: boolean;
  /** Consume `meridian.market.ticks` and cache each tick as important data (`md:<symbol>`). */
  ingestMarketData?: boolean;
}

export interface RegionNodeHandle {
  readonly region: string;
  readonly url: string;
  readonly port: number;
  readonly node: RegionNode;
  readonly marketData: MarketDataIngestHandle | undefined;
  stop(): Promise<void>;
}

function parseReadOpts(q: URLSearchParams): ReadOptions {
  const opts: ReadOptions = {};
  const maxAge = q.get("maxAgeMs");
  if (maxAge !== null) {
    const n = Number(maxAge);
    if (!Number.isFinite(n) || n < 0)
      throw new InvalidInputError("maxAgeMs must be a non-negative number", { field: "maxAgeMs" });
    opts.maxAgeMs = n;
  }
  const minVersion = q.get("minVersion");
  if (minVersion !== null) {
    try {
      opts.minVersion = JSON.parse(minVersion) as Record<string, number> | number;
    } catch {
      throw new InvalidInputError('minVersion must be JSON: {"us-east":3} (important) or 3 (critical)', {
        field: "minVersion",
      });
    }
  }
  return opts;
}

function ledgerOf(node: RegionNode): Ledger {
  if (!node.ledger) throw new NotImplementedError("ledger: this node has no PostgreSQL-backed critical data");
  return node.ledger;
}

interface HttpMetrics {
  requests: Counter;
  duration: Histogram;
  readAge: Histogram;
}

/** The node's /v1 metrics: requests by class / method / status, their latency, the age of what reads served. */
function httpMetrics(registry: Registry): HttpMetrics {
  const requests = new Counter({
    name: "meridian_http_requests_total",
    help: "HTTP requests to /v1 by data class, method and status",
    labelNames: ["class", "method", "status"],
    registers: [registry],
  });
  const duration = new Histogram({
    name: "meridian_http_request_duration_seconds",
    help: "Latency of /v1 requests",
    labelNames: ["class", "method"],
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
    registers: [registry],
  });
  const readAge = new Histogram({
    name: "meridian_read_age_seconds",
    help: "How old the value served by a read was (every read says how fresh it is)",
    labelNames: ["class"],
    buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 60],
    registers: [registry],
  });
  return { requests, duration, readAge };
}

type ClassHandler = (req: HttpRequest, cls: DataClass) => Promise<HttpResponse>;

/**
 * Wraps a /v1 handler: parses the data class, answers a typed error with its status (501 when this node
 * lacks the tier), and counts and times every request.
 */
function timedBy(
  metrics: HttpMetrics,
  log: Logger,
): (method: string, fn: ClassHandler) => (req: HttpRequest) => Promise<HttpResponse> {
  const { requests, duration } = metrics;
  return (method: string, fn: ClassHandler) => {
    return async (req: HttpRequest): Promise<HttpResponse> => {
      const started = process.hrtime.bigint();
      let cls = "invalid";
      let res: HttpResponse;
      try {
        // The ledger routes have no class parameter: they are critical data.
        const parsed = parseDataClass(req.params.class ?? "critical");
        cls = parsed;
        res = await fn(req, parsed);
      } catch (err) {
        res =
          err instanceof NotImplementedError
            ? errorResponse(501, err.code, err.message)
            : errorToResponse(err);
        if (res.status >= 500 && res.status !== 501)
          log.error({ err, key: req.params.key }, "request failed");
      }
      requests.inc({ class: cls, method, status: String(res.status) });
      duration.observe({ class: cls, method }, Number(process.hrtime.bigint() - started) / 1e9);
      return res;
    };
  };
}

/** The node's /v1 routes over `node`. */
function nodeRouter(
  node: RegionNode,
  opts: RegionNodeServiceOptions,
  metrics: HttpMetrics,
  log: Logger,
): Router {
  const timed = timedBy(metrics, log);
  return regionNodeRouter({
    read: timed("GET", async (req, cls) => {
      const read = await node.get(cls, req.params.key!, parseReadOpts(req.query));
      if (!read)
        return errorResponse(404, "NOT_FOUND", `no ${cls} entry for ${req.params.key}`, {
          key: req.params.key,
        });
      metrics.readAge.observe({ class: cls }, read.ageMs / 1000);
      return { status: 200, body: read };
    }),
    write: timed("PUT", async (req, cls) => {
      if (req.body === undefined) throw new InvalidInputError("PUT needs a JSON body", { field: "body" });
      return { status: 200, body: await node.set(cls, req.params.key!, req.body) };
    }),
    transfer: timed("POST", async (req) => {
      const b = req.body as { from: string; to: string; amount: number };
      return { status: 200, body: await ledgerOf(node).transfer(b.from, b.to, b.amount) };
    }),
    deposit: timed("POST", async (req) => {
      const b = req.body as { account: string; amount: number };
      return { status: 200, body: await ledgerOf(node).deposit(b.account, b.amount) };
    }),
    info: () => ({
      status: 200,
      body: { region: opts.region, namespace: opts.namespace ?? null, keyPrefix: node.keyPrefix },
    }),
  });
}

export async function startRegionNode(opts: RegionNodeServiceOptions): Promise<RegionNodeHandle> {
  const log = createLogger("region-node", { region: opts.region }, opts.logger);
  const registry = createRegistry({ service: "region-node", region: opts.region }, opts.processMetrics);
  const metrics = httpMetrics(registry);

  const kafka = opts.kafka ?? createKafka(opts.config, `region-node-${opts.region}`);
  const node = await createRegionNode({ ...opts, kafka, metricsRegistry: registry });
  registerL1Metrics(registry, () => node.coherentCacheable?.near.stats);
  const kafkaHealth = await kafkaHealthCheck(kafka);
  const marketData = opts.ingestMarketData
    ? await startMarketDataIngest({
        node,
        kafka,
        config: opts.config,
        namespace: opts.namespace,
        logger: log,
        serde: opts.serde,
      })
    : undefined;
  if (marketData) registerConsumerMetrics(registry, () => marketData.health());

  const router = nodeRouter(node, opts, metrics, log);
  addObservabilityRoutes(router, registry, {
    redis: () => checkRedis(node.redis),
    kafka: kafkaHealth.check,
    ...(marketData ? { marketData: async () => assertProgressing(marketData.health()) } : {}),
  });
  const server = await listen(router, opts.port ?? 0, opts.host ?? "127.0.0.1", log, {
    auth: opts.config.httpAuth,
    openapi: OPENAPI_INFO,
  });
  log.info(
    { url: server.url, namespace: opts.namespace, ingestMarketData: !!opts.ingestMarketData },
    "region node started",
  );

  let stopped = false;
  return {
    region: opts.region,
    url: server.url,
    port: server.port,
    node,
    marketData,
    async stop() {
      if (stopped) return;
      stopped = true;
      await server.close();
      await marketData?.stop();
      await node.close();
      await kafkaHealth.close().catch(() => undefined);
      log.info("region node stopped");
    },
  };
}
