// ConsumerGroup with a batch handler: a window of records goes to it at once; a record it reports failed
// is retried alone and dead-lettered after maxAttempts while the rest of the window stays handled once;
// the failed record's later same-key records are handled again after it, in order; a batch handler that
// throws hands the whole window to the per-record path. Offsets are committed past everything settled.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type ConsumedMessage,
  ConsumerGroup,
  createKafka,
  ensureTopics,
  IdempotentProducer,
} from "../../packages/bus/src/index.js";
import { SerializationError } from "../../packages/core/src/index.js";
import { committedOffset, config, deleteTopics, eventually, runId } from "../support/bus.js";

const topic = `bus-batch-${runId}`;
const dlq = `bus-batch-dlq-${runId}`;
const kafka = createKafka(config, `bus-batch-${runId}`);
const RECORDS: Array<[string, string]> = [
  ["a", "a0"],
  ["b", "b0"],
  ["a", "bad"],
  ["a", "a1"],
  ["c", "c0"],
  ["b", "b1"],
];

const offsetOf = (groupId: string) => committedOffset(groupId, topic);

beforeAll(async () => {
  await ensureTopics(kafka, [topic, dlq], { partitions: 1 });
  const producer = new IdempotentProducer(kafka);
  await producer.send(
    topic,
    RECORDS.map(([key, v]) => ({ key, value: Buffer.from(v) })),
  );
  await producer.disconnect();
});

afterAll(async () => {
  await deleteTopics([topic, dlq]);
});

const textOf = (m: ConsumedMessage) => m.value!.toString();

describe("ConsumerGroup batch handler", () => {
  it("a poison record is dead-lettered alone; its key's later records follow it in order; the rest is handled once", async () => {
    const groupId = `batch-a-${runId}`;
    const batched: string[] = [];
    const single: string[] = [];
    const dlqProducer = new IdempotentProducer(kafka);
    const group = new ConsumerGroup(kafka, {
      groupId,
      topics: [topic],
      deadLetter: { topic: dlq, producer: dlqProducer },
      fromBeginning: true,
      retryDelayMs: 20,
    });
    await group.start(
      async (m) => {
        single.push(textOf(m));
        if (textOf(m) === "bad") throw new SerializationError("poison");
      },
      async (msgs) => {
        batched.push(...msgs.map(textOf));
        return msgs.map((m) => (textOf(m) === "bad" ? new SerializationError("poison") : undefined));
      },
    );
    expect(await eventually(async () => (await offsetOf(groupId)) === "6")).toBe(true);
    await group.stop();
    await dlqProducer.disconnect();
    expect(batched).toEqual(RECORDS.map(([, v]) => v));
    // Three attempts of the poison record, then a1 again after it: key "a" stays in order.
    expect(single).toEqual(["bad", "bad", "bad", "a1"]);
    expect(group.deadLetteredCount()).toBe(1);
  });

  it("a batch handler that throws hands every record to the per-record handler, in key order", async () => {
    const groupId = `batch-b-${runId}`;
    const single: string[] = [];
    let calls = 0;
    const group = new ConsumerGroup(kafka, {
      groupId,
      topics: [topic],
      deadLetter: { topic: dlq },
      fromBeginning: true,
      retryDelayMs: 20,
    });
    await group.start(
      async (m) => {
        if (textOf(m) !== "bad") single.push(textOf(m));
      },
      async () => {
        calls++;
        throw new Error("pipeline failed");
      },
    );
    expect(await eventually(async () => (await offsetOf(groupId)) === "6")).toBe(true);
    await group.stop();
    expect(calls).toBeGreaterThan(0);
    expect(single.filter((v) => v.startsWith("a"))).toEqual(["a0", "a1"]);
    expect([...single].sort()).toEqual(["a0", "a1", "b0", "b1", "c0"]);
  });
});
