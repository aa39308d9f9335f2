// ensureTopics is idempotent under concurrency; the transactional producer commits messages and consumer
// offsets atomically and an aborted batch stays invisible to read-committed consumers.

import { afterAll, describe, expect, it } from "vitest";
import {
  ConsumerGroup,
  createKafka,
  ensureTopics,
  IdempotentProducer,
  topicsFor,
} from "../../packages/bus/src/index.js";
import { InvalidInputError } from "../../packages/core/src/index.js";
import { config, deleteTopics, eventually, runId, testKafka } from "../support/bus.js";

const kafka = createKafka(config, `bus-producer-${runId}`);
const t = topicsFor(`bus-ptest-${runId}`);
const names = [t.updates("us-east"), t.inbound("us-east"), t.deadLetter];
const txTopic = `bus-tx-${runId}`;

afterAll(async () => {
  await deleteTopics([...names, txTopic]);
});

describe("ensureTopics", () => {
  it("creates missing topics once, even when called concurrently, with the asked partition count", async () => {
    const results = await Promise.all([
      ensureTopics(kafka, names, { partitions: 2 }),
      ensureTopics(createKafka(config, `bus-producer-b-${runId}`), names, { partitions: 2 }),
    ]);
    expect(results.every((r) => r.length === 0 || r.length === names.length)).toBe(true);
    expect(await ensureTopics(kafka, names, { partitions: 2 })).toEqual([]);
    const admin = testKafka("meta").admin();
    await admin.connect();
    const meta = await admin.fetchTopicMetadata({ topics: names });
    await admin.disconnect();
    expect(meta.topics.map((x) => x.partitions.length)).toEqual([2, 2, 2]);
    await expect(ensureTopics(kafka, ["bad topic"])).rejects.toBeInstanceOf(InvalidInputError);
  });
});

describe("IdempotentProducer", () => {
  it("transactional sendWithOffsets: messages and the group's offsets commit together", async () => {
    await ensureTopics(kafka, [txTopic], { partitions: 1 });
    const producer = new IdempotentProducer(kafka, { transactionalId: `tx-${runId}` });
    const groupId = `tx-group-${runId}`;
    await producer.sendWithOffsets(txTopic, [{ key: "k", value: Buffer.from("committed-1") }], {
      consumerGroupId: groupId,
      topics: [{ topic: names[0]!, partitions: [{ partition: 0, offset: "42" }] }],
    });
    // An aborted transaction in between (raw kafkajs) must stay invisible to the ConsumerGroup.
    const raw = kafka.producer({
      transactionalId: `tx-abort-${runId}`,
      idempotent: true,
      maxInFlightRequests: 1,
    });
    await raw.connect();
    const tx = await raw.transaction();
    await tx.send({ topic: txTopic, acks: -1, messages: [{ key: "k", value: "aborted" }] });
    await tx.abort();
    await raw.disconnect();
    await producer.send(txTopic, [{ key: "k", value: Buffer.from("committed-2") }]);
    await producer.disconnect();

    const admin = testKafka("offsets").admin();
    await admin.connect();
    const [offsets] = await admin.fetchOffsets({ groupId, topics: [names[0]!] });
    await admin.disconnect();
    expect(offsets?.partitions[0]?.offset).toBe("42");

    const seen: string[] = [];
    const group = new ConsumerGroup(kafka, {
      groupId: `tx-reader-${runId}`,
      topics: [txTopic],
      deadLetter: { topic: `bus-tx-dlq-${runId}` },
      fromBeginning: true,
    });
    await group.start(async (m) => {
      seen.push(m.value!.toString());
    });
    expect(await eventually(() => seen.length >= 2)).toBe(true);
    await group.stop();
    expect(seen).toEqual(["committed-1", "committed-2"]);
  });

  it("refuses offsets without a transactional id and non-Buffer values", async () => {
    const plain = new IdempotentProducer(kafka);
    await expect(
      plain.sendWithOffsets(txTopic, [], { consumerGroupId: "g", topics: [] }),
    ).rejects.toBeInstanceOf(InvalidInputError);
    await expect(
      plain.send(txTopic, [{ key: "k", value: "text" as unknown as Buffer }]),
    ).rejects.toBeInstanceOf(InvalidInputError);
    await plain.disconnect();
  });
});
