// A region caching market ticks as `important` data: consumes `meridian.market.ticks` and writes each tick
// into the region's EventualConsistencyCache under `md:<symbol>` (LWW register). From there the tick
// replicates like any other update. Only the feed's home region ingests; the others get it replicated.

import type { ConsumerHealth, MarketTickRecord as MarketTick } from "@meridian/bus";
import { AvroSerde, ConsumerGroup, topicsFor } from "@meridian/bus";
import { type MeridianConfig, SerializationError } from "@meridian/core";
import type { Logger } from "@meridian/service-kit";
import type { Kafka } from "kafkajs";
import { marketDataKey } from "./keyspace.js";
import type { RegionNode } from "./region-node.js";

export interface MarketDataIngestOptions {
  node: RegionNode;
  kafka: Kafka;
  config: MeridianConfig;
  namespace?: string | undefined;
  logger: Logger;
  serde?: AvroSerde | undefined;
  groupId?: string;
}

export interface MarketDataIngestHandle {
  ingested(): number;
  ready(): Promise<void>;
  /** The supervised tick consumer's state (restarts, last progress, stalled). */
  health(): ConsumerHealth;
  stop(): Promise<void>;
}

function asTick(v: unknown): MarketTick {
  const t = v as Partial<MarketTick> | null;
  if (!t || typeof t.symbol !== "string" || typeof t.price !== "number") {
    throw new SerializationError("not a MarketTick");
  }
  return t as MarketTick;
}

export async function startMarketDataIngest(opts: MarketDataIngestOptions): Promise<MarketDataIngestHandle> {
  const { node } = opts;
  const topic = topicsFor(opts.namespace).marketTicks;
  const serde = opts.serde ?? new AvroSerde(opts.config.schemaRegistryUrl);
  const log = opts.logger.child({ component: "market-data-ingest" });
  const groupId =
    opts.groupId ?? `${opts.namespace ? `${opts.namespace}.` : ""}meridian.md-ingest.${node.region}`;
  const consumer = new ConsumerGroup(opts.kafka, {
    groupId,
    topics: [topic],
    // A tick that cannot be decoded is dead-lettered; the next tick for the symbol supersedes it anyway.
    deadLetter: { topic: topicsFor(opts.namespace).deadLetter },
    logger: log,
    fromBeginning: false,
  });
  let ingested = 0;
  await consumer.start(async (msg) => {
    const tick = asTick(await serde.decode(msg.value ?? Buffer.alloc(0)));
    await node.important.setWithEventualConsistency(marketDataKey(tick.symbol), tick);
    ingested += 1;
  });
  return {
    ingested: () => ingested,
    ready: async () => {},
    health: () => consumer.health(),
    stop: () => consumer.stop(),
  };
}
