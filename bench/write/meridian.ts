// Meridian's eventual writes on one node, end to end: every acknowledged write is merged in Redis AND
// acknowledged by Kafka (acks=all) through the region node's publisher, coalesced and batched.
import { AvroSerde, type CacheUpdate, IdempotentProducer, type Kafka } from "@meridian/bus";
import type { MeridianConfig } from "@meridian/core";
import {
  batchingUpdatePublisher,
  type CoalescerOptions,
  crdtPolicyByPrefix,
  EventualConsistencyCache,
} from "@meridian/eventual";
import type { Redis } from "ioredis";
import { type Row, redisCpuSeconds, runFor } from "./harness.js";

export const KEYS = 10_000;
const policy = crdtPolicyByPrefix({ "price:": "lww", "position:": "pncounter" });

export interface MeridianNode {
  cache(label: string, coalesce?: CoalescerOptions | false): EventualConsistencyCache;
  redis: Redis;
  serde: AvroSerde;
  close(): Promise<void>;
}

export async function meridianNode(
  cfg: MeridianConfig,
  kafka: Kafka,
  redis: Redis,
  topic: string,
  prefix: string,
): Promise<MeridianNode> {
  const producer = new IdempotentProducer(kafka, { compression: "gzip" }); // as the region node
  await producer.connect();
  const serde = new AvroSerde(cfg.schemaRegistryUrl);
  const publisher = batchingUpdatePublisher(producer, serde, topic);
  return {
    serde,
    redis,
    cache: (label, coalesce) =>
      new EventualConsistencyCache(redis, publisher, {
        region: "bench",
        keyPrefix: `${prefix}${label}:`,
        crdtTypeFor: policy,
        ...(coalesce !== undefined ? { coalesce } : {}),
      }),
    close: () => producer.disconnect(),
  };
}

/** LWW `set` of 10 k keys drawn uniformly at random. */
export async function uniformSet(
  node: MeridianNode,
  inFlight: number,
  ms: number,
  coalesce?: false,
): Promise<Row> {
  const cache = node.cache(`u${inFlight}${coalesce === false ? "n" : ""}`, coalesce);
  const name = `Meridian eventual set, ${KEYS / 1000} k keys uniform${coalesce === false ? ", uncoalesced" : ""}`;
  const redisBefore = await redisCpuSeconds(node.redis);
  const row = await runFor(name, inFlight, ms, 1, (i) =>
    cache.setWithEventualConsistency(`price:${Math.floor(Math.random() * KEYS)}`, i),
  );
  row.redisCpuUs = ((await redisCpuSeconds(node.redis)) - redisBefore) * 1e6;
  return row;
}

/** Increments of one hot PN-counter key. */
export function hotCounter(node: MeridianNode, inFlight: number, ms: number, coalesce?: false): Promise<Row> {
  const cache = node.cache(`h${inFlight}${coalesce === false ? "n" : ""}`, coalesce);
  const name = `Meridian eventual increment, one hot PN-counter key${coalesce === false ? ", uncoalesced" : ""}`;
  return runFor(name, inFlight, ms, 1, () =>
    cache.setWithEventualConsistency("position:HOT", { op: "increment", by: 1 }),
  );
}

/** Bytes of one Avro-encoded update of the uniform workload (the record size the limits use). */
export async function recordSize(serde: AvroSerde): Promise<number> {
  const update: CacheUpdate = {
    key: "price:1234",
    kind: "UPDATE",
    crdtType: "lww",
    state: JSON.stringify({ value: 123456, ts: { wallMs: Date.now(), logical: 0, node: "bench" } }),
    region: "bench",
    vectorClock: { bench: 12 },
    hlcWallMs: Date.now(),
    hlcLogical: 0,
    hlcNode: "bench",
    producedAtMs: Date.now(),
  };
  return (await serde.encodeCacheUpdate(update)).length;
}
