// malformed messages on a region's inbound topic go to the
// dead-letter topic with the reason in their headers, and the consumer goes on with the next message of
// the same partition.
import { AvroSerde, createKafka, DLQ_HEADERS, IdempotentProducer, topicsFor } from "@meridian/bus";
import { type Cluster, startCluster } from "@meridian/cluster";
import { configFromEnv } from "@meridian/core";
import type { KafkaMessage } from "kafkajs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { get, mustPut, sleep, stopAndPurge, uniqueNamespace } from "../support/pipeline.js";

const TARGET = "us-west";
const KEY = "px:dlq";

describe("dead-letter topic", () => {
  let cluster: Cluster;

  beforeAll(async () => {
    cluster = await startCluster({ namespace: uniqueNamespace("dlq"), marketData: false, critical: false });
  });

  afterAll(() => stopAndPurge(cluster));

  it("routes bad bytes, an unknown schema id, a bad CRDT state and a 100k-deep value to the DLQ with reasons; goes on", async () => {
    const config = configFromEnv();
    const topics = topicsFor(cluster.namespace);
    const kafka = createKafka(config, "dlq-test");
    const producer = new IdempotentProducer(kafka);
    const serde = new AvroSerde(config.schemaRegistryUrl);
    await producer.connect();
    const lwwUpdateWithState = (state: string) =>
      serde.encodeCacheUpdate({
        key: KEY,
        kind: "UPDATE",
        crdtType: "lww",
        state,
        region: "us-east",
        vectorClock: { "us-east": 1 },
        hlcWallMs: Date.now(),
        hlcLogical: 0,
        hlcNode: "us-east",
        producedAtMs: Date.now(),
      });
    const badState = await lwwUpdateWithState("{this is not json");
    // A decodable update whose value is nested 100,000 deep: once a RangeError retried forever.
    const deepValue = await lwwUpdateWithState(
      `{"type":"lww","state":{"value":${"[".repeat(100_000)}${"]".repeat(100_000)}}}`,
    );
    const unknownSchema = Buffer.concat([Buffer.from([0, 0x7f, 0xff, 0xff, 0x01]), Buffer.from("payload")]);
    // Same key as the good update that follows → same partition: the consumer must get past them.
    await producer.send(topics.inbound(TARGET), [
      { key: KEY, value: Buffer.from("definitely not avro"), headers: { "test-case": "bad-bytes" } },
      { key: KEY, value: unknownSchema, headers: { "test-case": "unknown-schema" } },
      { key: KEY, value: badState, headers: { "test-case": "bad-state" } },
      { key: KEY, value: deepValue, headers: { "test-case": "deep-value" } },
    ]);
    await producer.disconnect();

    await mustPut(cluster.regions["us-east"]!.url, KEY, { value: "after the poison" });
    const deadline = Date.now() + 10_000;
    let read = await get(cluster.regions[TARGET]!.url, "important", KEY);
    while (read.status !== 200 && Date.now() < deadline) {
      await sleep(50);
      read = await get(cluster.regions[TARGET]!.url, "important", KEY);
    }
    expect(read.body?.value).toBe("after the poison");
    // Each poison record is tried a bounded number of times first (anti-entropy may deliver the value sooner).
    const consumer = cluster.regions[TARGET]!.consumer!;
    while (consumer.counts().deadLettered < 4 && Date.now() < deadline) await sleep(50);
    expect(consumer.counts().deadLettered).toBe(4);

    const dead = await readTopic(kafka, topics.deadLetter, 4);
    const byCase = new Map(dead.map((m) => [header(m, "test-case"), m]));
    expect([...byCase.keys()].sort()).toEqual(["bad-bytes", "bad-state", "deep-value", "unknown-schema"]);
    for (const m of dead) {
      expect(header(m, DLQ_HEADERS.reason)!.length).toBeGreaterThan(0);
      expect(header(m, DLQ_HEADERS.sourceTopic)).toBe(topics.inbound(TARGET));
      expect(header(m, DLQ_HEADERS.consumer)).toContain(TARGET);
      expect(m.key?.toString()).toBe(KEY);
    }
    expect(header(byCase.get("bad-bytes")!, DLQ_HEADERS.errorCode)).toBe("SERIALIZATION");
    expect(header(byCase.get("unknown-schema")!, DLQ_HEADERS.errorCode)).toBe("SERIALIZATION");
    expect(header(byCase.get("bad-state")!, DLQ_HEADERS.errorCode)).toBe("INVALID_INPUT");
    expect(header(byCase.get("bad-state")!, DLQ_HEADERS.reason)).toMatch(/json/i);
    expect(header(byCase.get("deep-value")!, DLQ_HEADERS.errorCode)).toBe("INVALID_INPUT");
    expect(header(byCase.get("deep-value")!, DLQ_HEADERS.reason)).toMatch(/nested deeper/);
    // The original bytes are kept for inspection / replay.
    expect(byCase.get("bad-bytes")!.value?.toString()).toBe("definitely not avro");
  });
});

function header(m: KafkaMessage, name: string): string | undefined {
  const v = m.headers?.[name];
  const first = Array.isArray(v) ? v[0] : v;
  return first === undefined ? undefined : first.toString();
}

async function readTopic(
  kafka: ReturnType<typeof createKafka>,
  topic: string,
  count: number,
): Promise<KafkaMessage[]> {
  const consumer = kafka.consumer({ groupId: `${topic}.reader.${Date.now()}`, maxWaitTimeInMs: 100 });
  const out: KafkaMessage[] = [];
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  const done = new Promise<void>((resolve) => {
    void consumer.run({
      eachMessage: async ({ message }) => {
        out.push(message);
        if (out.length >= count) resolve();
      },
    });
  });
  await Promise.race([done, sleep(15_000)]);
  await consumer.disconnect();
  return out;
}
