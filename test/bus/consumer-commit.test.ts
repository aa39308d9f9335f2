// ConsumerGroup commits an offset only after the handler resolved: a handler that throws once gets the
// message again, what a stopped consumer never handled is delivered to the group's next member, and with
// a give-up policy a poison message is dead-lettered with its reason.

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  ConsumerGroup,
  createKafka,
  DLQ_HEADERS,
  deadLetterTo,
  ensureTopics,
  IdempotentProducer,
} from "../../packages/bus/src/index.js";
import { SerializationError } from "../../packages/core/src/index.js";
import { config, deleteTopics, eventually, runId, testKafka } from "./support.js";

const topic = `bus-commit-${runId}`;
const kafka = createKafka(config, `bus-commit-${runId}`);

async function committedOffset(groupId: string): Promise<string | undefined> {
  const admin = testKafka("offsets").admin();
  await admin.connect();
  const [entry] = await admin.fetchOffsets({ groupId, topics: [topic] });
  await admin.disconnect();
  return entry?.partitions.find((p) => p.partition === 0)?.offset;
}

// One partition so the order of the messages is the order of offsets; shared by every test below.
beforeAll(async () => {
  await ensureTopics(kafka, [topic], { partitions: 1 });
  const producer = new IdempotentProducer(kafka);
  await producer.send(
    topic,
    ["m0", "m1", "m2", "m3", "m4"].map((v) => ({ key: "k", value: Buffer.from(v) })),
  );
  await producer.disconnect();
});

afterAll(async () => {
  await deleteTopics([topic]);
});

describe("ConsumerGroup commit-after-handler", () => {
  it("retries a message whose handler threw, in order, and commits only handled offsets", async () => {
    const groupId = `commit-a-${runId}`;
    const seen: string[] = [];
    let failedOnce = false;
    const group = new ConsumerGroup(kafka, {
      groupId,
      topics: [topic],
      fromBeginning: true,
      retryDelayMs: 50,
    });
    await group.start(async (m) => {
      const v = m.value!.toString();
      seen.push(v);
      if (v === "m1" && !failedOnce) {
        failedOnce = true;
        throw new Error("transient failure");
      }
    });
    expect(await eventually(() => seen.includes("m4"))).toBe(true);
    await group.stop();
    // m1 delivered twice (failure, then retry), nothing skipped, nothing reordered.
    expect(seen).toEqual(["m0", "m1", "m1", "m2", "m3", "m4"]);
    expect(await committedOffset(groupId)).toBe("5");
  });

  it("a message whose handler keeps failing is not committed and goes to the next member of the group", async () => {
    const groupId = `commit-b-${runId}`;
    const first: string[] = [];
    const failing = new ConsumerGroup(kafka, {
      groupId,
      topics: [topic],
      fromBeginning: true,
      retryDelayMs: 50,
    });
    await failing.start(async (m) => {
      const v = m.value!.toString();
      first.push(v);
      if (v === "m2") throw new Error("poison for this member");
    });
    expect(await eventually(() => first.filter((v) => v === "m2").length >= 3)).toBe(true);
    await failing.stop();
    expect(first.includes("m3")).toBe(false);
    // m0 and m1 were handled: the committed offset points at m2 (offset 2), not past it.
    expect(await committedOffset(groupId)).toBe("2");

    const second: string[] = [];
    const next = new ConsumerGroup(kafka, { groupId, topics: [topic], fromBeginning: true });
    await next.start(async (m) => {
      second.push(m.value!.toString());
    });
    expect(await eventually(() => second.includes("m4"))).toBe(true);
    await next.stop();
    expect(second).toEqual(["m2", "m3", "m4"]);
    expect(await committedOffset(groupId)).toBe("5");
  });
});

describe("ConsumerGroup start()", () => {
  it("resolves only when positioned: a message produced right after start() is not skipped (latest)", async () => {
    const latestTopic = `bus-latest-${runId}`;
    await ensureTopics(kafka, [latestTopic], { partitions: 3 });
    const producer = new IdempotentProducer(kafka);
    await producer.send(latestTopic, [{ key: "old", value: Buffer.from("before-start") }]);
    const seen: string[] = [];
    const group = new ConsumerGroup(kafka, { groupId: `latest-${runId}`, topics: [latestTopic] });
    await group.start(async (m) => {
      seen.push(m.value!.toString());
    });
    await producer.send(
      latestTopic,
      ["a", "b", "c", "d", "e", "f"].map((k) => ({ key: k, value: Buffer.from(`after-${k}`) })),
    );
    expect(await eventually(() => seen.length >= 6, 15_000)).toBe(true);
    await group.stop();
    await producer.disconnect();
    await deleteTopics([latestTopic]);
    expect(seen.sort()).toEqual(["after-a", "after-b", "after-c", "after-d", "after-e", "after-f"]);
  });
});

describe("ConsumerGroup give-up policy", () => {
  it("after maxAttempts a poison message goes to the dead-letter topic with its reason and the rest flows", async () => {
    const dlq = `bus-dlq-${runId}`;
    await ensureTopics(kafka, [dlq], { partitions: 1 });
    const producer = new IdempotentProducer(kafka);
    const groupId = `dlq-${runId}`;
    const attempts = new Map<string, number>();
    const handled: string[] = [];
    const group = new ConsumerGroup(kafka, {
      groupId,
      topics: [topic],
      fromBeginning: true,
      retryDelayMs: 20,
      maxAttempts: 3,
      onGiveUp: deadLetterTo(producer, dlq),
    });
    await group.start(async (m) => {
      const v = m.value!.toString();
      attempts.set(v, (attempts.get(v) ?? 0) + 1);
      if (v === "m2") throw new SerializationError("not a CacheUpdate");
      handled.push(v);
    });
    expect(await eventually(() => handled.includes("m4"))).toBe(true);
    await group.stop();
    expect(handled).toEqual(["m0", "m1", "m3", "m4"]);
    expect(attempts.get("m2")).toBe(3);
    expect(await committedOffset(groupId)).toBe("5");

    const dead: { value: string; headers: Record<string, string> }[] = [];
    const reader = new ConsumerGroup(kafka, {
      groupId: `dlq-reader-${runId}`,
      topics: [dlq],
      fromBeginning: true,
    });
    await reader.start(async (m) => {
      dead.push({ value: m.value!.toString(), headers: m.headers });
    });
    expect(await eventually(() => dead.length >= 1)).toBe(true);
    await reader.stop();
    await producer.disconnect();
    await deleteTopics([dlq]);
    expect(dead).toHaveLength(1);
    expect(dead[0]?.value).toBe("m2");
    expect(dead[0]?.headers).toMatchObject({
      [DLQ_HEADERS.reason]: "not a CacheUpdate",
      [DLQ_HEADERS.error]: "SerializationError:SERIALIZATION",
      [DLQ_HEADERS.sourceTopic]: topic,
      [DLQ_HEADERS.sourceOffset]: "2",
    });
  });
});
