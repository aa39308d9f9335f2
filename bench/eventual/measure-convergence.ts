// Run: pnpm tsx bench/eventual/measure-convergence.ts   (env DURATION_MS, RATE)
// Five regions on one machine through the library only: each region writes to its own L2 and publishes to
// meridian.<region>.updates; each region's consumer applies the other four regions' topics with
// applyRemoteUpdate. No replicator, no simulated WAN latency. Measures time from the last write of a key
// to the moment all five regions hold the same state (digest) for it.
import { randomUUID } from "node:crypto";
import os from "node:os";
import {
  AvroSerde,
  ConsumerGroup,
  createKafka,
  ensureTopics,
  IdempotentProducer,
  topicsFor,
} from "@meridian/bus";
import { configFromEnv } from "@meridian/core";
import {
  applyRemoteUpdate,
  crdtPolicyByPrefix,
  digestOf,
  EventualConsistencyCache,
  kafkaUpdatePublisher,
  readEntry,
} from "@meridian/eventual";
import { startSchemaRegistry } from "@meridian/schema-registry";
import { deleteKeysWithPrefix } from "@meridian/store";
import { Redis } from "ioredis";
import pino from "pino";

const run = randomUUID().slice(0, 6);
const config = configFromEnv();
const REGIONS = ["us-east", "us-west", "eu-west", "ap-south", "ap-northeast"];
const t = topicsFor(`evconv${run}`);
const kafka = createKafka(config, `evconv-${run}`, pino({ level: "error" }));
// Our own registry on a free port unless MERIDIAN_SCHEMA_REGISTRY_URL points at one.
const registry = process.env.MERIDIAN_SCHEMA_REGISTRY_URL
  ? { url: config.schemaRegistryUrl, close: async () => {} }
  : await startSchemaRegistry({
      brokers: config.kafkaBrokers,
      port: 0,
      topic: `_schemas-evconv-${run}`,
      logger: pino({ level: "error" }),
    });
await ensureTopics(
  kafka,
  REGIONS.map((r) => t.updates(r)),
  { partitions: 3 },
);
const serde = new AvroSerde(registry.url);
const policy = crdtPolicyByPrefix({ "price:": "lww", "position:": "pncounter", "watch:": "orset" });
const nodes = await Promise.all(
  REGIONS.map(async (region, i) => {
    const redis = new Redis(config.redisUrl, { db: 5 });
    const keyPrefix = `mer-ev-conv-${run}:${region}:`;
    const producer = new IdempotentProducer(kafka);
    await producer.connect();
    const cache = new EventualConsistencyCache(
      redis,
      kafkaUpdatePublisher(producer, serde, t.updates(region)),
      { region, keyPrefix, crdtTypeFor: policy },
    );
    const consumer = new ConsumerGroup(kafka, {
      groupId: `evconv-${run}-${region}`,
      topics: REGIONS.filter((r) => r !== region).map((r) => t.updates(r)),
      deadLetter: { topic: t.deadLetter },
      fromBeginning: true,
      logger: pino({ level: "error" }),
    });
    let applied = 0;
    await consumer.start(async (msg) => {
      await applyRemoteUpdate(redis, keyPrefix, await serde.decodeCacheUpdate(msg.value!));
      applied++;
    });
    return {
      region,
      redis,
      keyPrefix,
      producer,
      cache,
      consumer,
      get applied() {
        return applied;
      },
      i,
    };
  }),
);
const KEYS = [
  ...Array.from({ length: 10 }, (_, i) => `price:S${i}`),
  ...Array.from({ length: 10 }, (_, i) => `position:P${i}`),
  ...Array.from({ length: 5 }, (_, i) => `watch:W${i}`),
];
const lastWrite = new Map<string, number>();
let writes = 0;
const DURATION = Number(process.env.DURATION_MS ?? 10_000);
const RATE = Number(process.env.RATE ?? 40); // writes/s per region
const end = Date.now() + DURATION;
await Promise.all(
  nodes.map(async (n) => {
    while (Date.now() < end) {
      const key = KEYS[Math.floor(Math.random() * KEYS.length)]!;
      const v = key.startsWith("price:")
        ? Math.round(Math.random() * 10000) / 100
        : key.startsWith("position:")
          ? { op: "increment", by: 1 + Math.floor(Math.random() * 5) }
          : { op: Math.random() < 0.7 ? "add" : "remove", element: `E${Math.floor(Math.random() * 6)}` };
      await n.cache.setWithEventualConsistency(key, v);
      writes++;
      lastWrite.set(key, Date.now());
      await new Promise((r) => setTimeout(r, 1000 / RATE));
    }
  }),
);
const converged = new Map<string, number>();
const deadline = Date.now() + 60_000;
while (converged.size < lastWrite.size && Date.now() < deadline) {
  for (const key of KEYS) {
    if (converged.has(key) || !lastWrite.has(key)) continue;
    const ds = await Promise.all(
      nodes.map(async (n) => {
        const e = await readEntry(n.redis, n.keyPrefix, key);
        return e ? digestOf(e) : null;
      }),
    );
    if (ds[0] !== null && ds.every((d) => d === ds[0])) converged.set(key, Date.now() - lastWrite.get(key)!);
  }
  await new Promise((r) => setTimeout(r, 10));
}
const times = [...converged.values()].sort((a, b) => a - b);
const pct = (p: number) => times[Math.min(times.length - 1, Math.floor((p / 100) * times.length))];
console.log(
  `node ${process.version}, ${os.cpus().length} CPUs, load ${os
    .loadavg()
    .map((x) => x.toFixed(1))
    .join(" ")}`,
);
console.log(
  `${REGIONS.length} regions, ${writes} writes in ${DURATION} ms (${RATE}/s/region target), ${KEYS.length} keys; applied per region: ${nodes.map((n) => n.applied).join(", ")}`,
);
console.log(
  `converged ${converged.size}/${lastWrite.size} written keys; ms from last write to all-equal: p50 ${pct(50)} p99 ${pct(99)} max ${times.at(-1)}`,
);
for (const n of nodes) {
  await n.consumer.stop();
  await n.producer.disconnect();
}
await registry.close(); // first: its consumer of _schemas must be gone before the topic is deleted
const admin = kafka.admin();
await admin.connect();
await admin.deleteTopics({ topics: REGIONS.map((r) => t.updates(r)) }).catch(() => {});
await admin.deleteTopics({ topics: [`_schemas-evconv-${run}`] }).catch(() => {});
await admin.disconnect();
for (const n of nodes) {
  await deleteKeysWithPrefix(n.redis, n.keyPrefix);
  n.redis.disconnect();
}
process.exit(0);
