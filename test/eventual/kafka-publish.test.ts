// The publish path through the real broker: a write in us-east goes out Avro-encoded (Confluent wire
// format, schema registry) to meridian.us-east.updates, keyed by cache key; a consumer in eu-west decodes
// it and merges it with applyRemoteUpdate; a rollback travels the same way with kind ROLLBACK.
import {
  AvroSerde,
  type CacheUpdate,
  ConsumerGroup,
  createKafka,
  ensureTopics,
  IdempotentProducer,
  topicsFor,
} from "@meridian/bus";
import {
  applyRemoteUpdate,
  digestOf,
  EventualConsistencyCache,
  kafkaUpdatePublisher,
  readEntry,
} from "@meridian/eventual";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { deleteTopics, eventually, type TestRegistry, testRegistry } from "../support/bus.js";
import { cleanup, config, makeRegions, policy, runId } from "./support/eventual-env.js";

const ns = `evtest${runId}`;
const t = topicsFor(ns);
let registry: TestRegistry;
const kafka = createKafka(config, `eventual-test-${runId}`);
const producer = new IdempotentProducer(kafka);

beforeAll(async () => {
  registry = await testRegistry();
  await ensureTopics(kafka, [t.updates("us-east")], { partitions: 3 });
  await producer.connect();
});

afterAll(async () => {
  await producer.disconnect();
  await deleteTopics([t.updates("us-east")]);
  await registry?.close();
  await cleanup();
});

describe("publish through Kafka", () => {
  it("writes and a rollback reach the other region through the broker and converge", async () => {
    const [a, b] = makeRegions("kafka", ["us-east", "eu-west"]);
    const serde = new AvroSerde(registry.url);
    const cache = new EventualConsistencyCache(
      a!.redis,
      kafkaUpdatePublisher(producer, serde, t.updates("us-east")),
      {
        region: "us-east",
        keyPrefix: a!.keyPrefix,
        crdtTypeFor: policy,
      },
    );
    const received: CacheUpdate[] = [];
    const outcomes: string[] = [];
    const keyMismatches: string[] = [];
    const consumer = new ConsumerGroup(kafka, {
      groupId: `ev-${runId}`,
      topics: [t.updates("us-east")],
      deadLetter: { topic: t.deadLetter },
      fromBeginning: true,
    });
    await consumer.start(async (msg) => {
      const update = await serde.decodeCacheUpdate(msg.value!);
      if (msg.key !== update.key) keyMismatches.push(`${msg.key} != ${update.key}`);
      outcomes.push(await applyRemoteUpdate(b!.redis, b!.keyPrefix, update));
      received.push(update);
    });
    try {
      const good = await cache.setWithEventualConsistency("price:KAFKA", 42.5);
      await cache.setWithEventualConsistency("price:KAFKA", -1);
      await cache.setWithEventualConsistency("position:KAFKA", { op: "increment", by: 9 });
      await cache.setWithEventualConsistency("watch:KAFKA", { op: "add", element: { sym: "AAPL" } });
      await cache.rollback("price:KAFKA", good);
      expect(await eventually(() => received.length >= 5, 60_000)).toBe(true);
      expect(received.map((u) => u.kind).sort()).toEqual([
        "ROLLBACK",
        "UPDATE",
        "UPDATE",
        "UPDATE",
        "UPDATE",
      ]);
      for (const key of ["price:KAFKA", "position:KAFKA", "watch:KAFKA"]) {
        const here = await readEntry(a!.redis, a!.keyPrefix, key);
        const there = await readEntry(b!.redis, b!.keyPrefix, key);
        expect(digestOf(there!), key).toBe(digestOf(here!));
      }
      expect((await b!.cache.getWithEventualConsistency("price:KAFKA"))!.value).toBe(42.5);
      expect(outcomes.every((o) => o === "applied")).toBe(true);
      expect(keyMismatches).toEqual([]);
    } finally {
      await consumer.stop();
    }
  });
});
