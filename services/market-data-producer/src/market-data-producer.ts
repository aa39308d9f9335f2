// The market-data producer: N symbols random-walking, R ticks per second into `meridian.market.ticks`
// (Avro MarketTick, keyed by symbol so one symbol's ticks stay ordered).

import { AvroSerde, createKafka, ensureTopics, IdempotentProducer, topicsFor } from "@meridian/bus";
import { InvalidInputError, type MeridianConfig } from "@meridian/core";
import {
  addObservabilityRoutes,
  createLogger,
  createRegistry,
  kafkaHealthCheck,
  type Logger,
  listen,
  Router,
  type StartedServer,
} from "@meridian/service-kit";
import type { Kafka } from "kafkajs";
import { Counter, type Registry } from "prom-client";
import { type MarketTick, RandomWalk } from "./market-data.js";

export interface MarketDataProducerOptions {
  config: MeridianConfig;
  namespace?: string | undefined;
  symbols?: number;
  ticksPerSecond?: number;
  port?: number | null;
  host?: string;
  logger?: Logger;
  processMetrics?: boolean;
  kafka?: Kafka;
  serde?: AvroSerde;
  /** Injected random source (reproducible demos). */
  random?: () => number;
}

export interface MarketDataProducerHandle {
  readonly url: string | undefined;
  readonly symbols: string[];
  produced(): number;
  /** The most recent tick per symbol that Kafka acknowledged. */
  lastTicks(): Map<string, MarketTick>;
  stop(): Promise<void>;
}

const SCHEMA = "MarketTick";

export async function startMarketDataProducer(
  opts: MarketDataProducerOptions,
): Promise<MarketDataProducerHandle> {
  const symbols = opts.symbols ?? 20;
  const rate = opts.ticksPerSecond ?? 50;
  if (!(rate > 0)) throw new InvalidInputError("ticksPerSecond must be > 0", { field: "ticksPerSecond" });
  const log = createLogger("market-data-producer", {}, opts.logger);
  const registry = createRegistry({ service: "market-data-producer" }, opts.processMetrics);
  const metrics = tickMetrics(registry);
  const topic = topicsFor(opts.namespace).marketTicks;
  const kafka = opts.kafka ?? createKafka(opts.config, "market-data-producer");
  await ensureTopics(kafka, [topic], { partitions: 3 });
  const kafkaHealth = await kafkaHealthCheck(kafka);
  const producer = new IdempotentProducer(kafka);
  await producer.connect();
  const serde = opts.serde ?? new AvroSerde(opts.config.schemaRegistryUrl);
  const walk = new RandomWalk({ symbols, ...(opts.random ? { random: opts.random } : {}) });
  const last = new Map<string, MarketTick>();
  let produced = 0;
  const pacer = paceTicks(rate, async (n) => {
    const ticks = Array.from({ length: n }, () => walk.next());
    try {
      const messages = await Promise.all(
        ticks.map(async (t) => ({ key: t.symbol, value: await serde.encode(SCHEMA, t) })),
      );
      await producer.send(topic, messages);
      for (const t of ticks) last.set(t.symbol, t);
      produced += n;
      metrics.produced.inc(n);
    } catch (err) {
      metrics.errors.inc();
      log.warn({ err, count: n }, "tick batch failed");
    }
  });

  let server: StartedServer | undefined;
  if (opts.port !== null) {
    const router = addObservabilityRoutes(new Router(), registry, { kafka: kafkaHealth.check });
    router.on("GET", "/ticks/latest", () => ({ status: 200, body: Object.fromEntries(last) }));
    server = await listen(router, opts.port ?? 0, opts.host ?? "127.0.0.1", log, {
      auth: opts.config.httpAuth,
    });
  }
  log.info({ topic, symbols, ticksPerSecond: rate, url: server?.url }, "market data producer started");

  return {
    url: server?.url,
    symbols: walk.symbols,
    produced: () => produced,
    lastTicks: () => new Map(last),
    async stop() {
      if (!(await pacer.stop())) return;
      await server?.close();
      await producer.disconnect().catch(() => undefined);
      await kafkaHealth.close().catch(() => undefined);
      log.info({ produced }, "market data producer stopped");
    },
  };
}

/** Ticks acknowledged by Kafka, and batches that failed. */
function tickMetrics(registry: Registry): { produced: Counter; errors: Counter } {
  const produced = new Counter({
    name: "meridian_market_ticks_produced_total",
    help: "Market ticks acknowledged by Kafka",
    registers: [registry],
  });
  const errors = new Counter({
    name: "meridian_market_ticks_errors_total",
    help: "Tick batches that failed to produce (dropped: ticks are superseded by the next one)",
    registers: [registry],
  });
  return { produced, errors };
}

/**
 * Every 20 ms hands `sendBatch` the number of ticks owed since the last round (at most 5,000); one batch
 * in flight at a time keeps order. `sendBatch` handles its own failures. stop() resolves false when
 * already stopped, else once the batch in flight is done.
 */
function paceTicks(rate: number, sendBatch: (n: number) => Promise<void>): { stop(): Promise<boolean> } {
  let debt = 0;
  let lastAt = Date.now();
  let sending = false;
  let stopped = false;
  const timer = setInterval(() => {
    const now = Date.now();
    debt += ((now - lastAt) / 1000) * rate;
    lastAt = now;
    if (sending || stopped || debt < 1) return;
    const n = Math.min(Math.floor(debt), 5000);
    debt -= n;
    sending = true;
    void sendBatch(n).finally(() => {
      sending = false;
    });
  }, 20);
  return {
    async stop() {
      if (stopped) return false;
      stopped = true;
      clearInterval(timer);
      while (sending) await new Promise((r) => setTimeout(r, 10));
      return true;
    },
  };
}
