// ConsumerGroup commits an offset only after the handler resolved or the record was dead-lettered: a
// handler that throws once gets the message again, a record blocked by an unavailable backend is never
// committed and goes to the group's next member, and a record that keeps failing, whatever it throws, is
// dead-lettered after maxAttempts with its reason while the partition goes on.

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  ConsumerGroup,
  createKafka,
  DLQ_HEADERS,
  ensureTopics,
  IdempotentProducer,
} from "../../packages/bus/src/index.js";
import { BackendUnavailableError, SerializationError } from "../../packages/core/src/index.js";
import { committedOffset, config, deleteTopics, eventually, runId } from "../support/bus.js";

const topic = `bus-commit-${runId}`;
const unusedDlq = { topic: `bus-commit-dlq-${runId}` };
const kafka = createKafka(config, `bus-commit-${runId}`);

const offsetOf = (groupId: string) => committedOffset(groupId, topic);

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
      deadLetter: unusedDlq,
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
    expect(await offsetOf(groupId)).toBe("5");
  });

  it("a record blocked by an unavailable backend is not committed and goes to the next member of the group", async () => {
    const groupId = `commit-b-${runId}`;
    const first: string[] = [];
    const failing = new ConsumerGroup(kafka, {
      groupId,
      topics: [topic],
      deadLetter: unusedDlq,
      fromBeginning: true,
      retryDelayMs: 50,
      maxRetryDelayMs: 100,
    });
    await failing.start(async (m) => {
      const v = m.value!.toString();
      first.push(v);
      if (v === "m2") throw new BackendUnavailableError("redis down for this member");
    });
    // Retried past maxAttempts (3): an outage is not the record's fault, so it is never dead-lettered.
    expect(await eventually(() => first.filter((v) => v === "m2").length >= 6)).toBe(true);
    await failing.stop();
    expect(first.includes("m3")).toBe(false);
    // m0 and m1 were handled: the committed offset points at m2 (offset 2), not past it.
    expect(await offsetOf(groupId)).toBe("2");

    const second: string[] = [];
    const next = new ConsumerGroup(kafka, {
      groupId,
      topics: [topic],
      deadLetter: unusedDlq,
      fromBeginning: true,
    });
    await next.start(async (m) => {
      second.push(m.value!.toString());
    });
    expect(await eventually(() => second.includes("m4"))).toBe(true);
    await next.stop();
    expect(second).toEqual(["m2", "m3", "m4"]);
    expect(await offsetOf(groupId)).toBe("5");
  });
});

describe("ConsumerGroup start()", () => {
  it("resolves only when positioned: a message produced right after start() is not skipped (latest)", async () => {
    const latestTopic = `bus-latest-${runId}`;
    await ensureTopics(kafka, [latestTopic], { partitions: 3 });
    const producer = new IdempotentProducer(kafka);
    await producer.send(latestTopic, [{ key: "old", value: Buffer.from("before-start") }]);
    const seen: string[] = [];
    const group = new ConsumerGroup(kafka, {
      groupId: `latest-${runId}`,
      topics: [latestTopic],
      deadLetter: unusedDlq,
    });
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

describe("ConsumerGroup dead-lettering", () => {
  it.each([
    [
      "a typed error",
      () => new SerializationError("not a CacheUpdate"),
      "SerializationError",
      "SERIALIZATION",
    ],
    ["a RangeError", () => new RangeError("Maximum call stack size exceeded"), "RangeError", "INTERNAL"],
    ["a plain Error", () => new Error("boom"), "Error", "INTERNAL"],
  ])(
    "after maxAttempts, a record failing with %s is dead-lettered with its reason and the rest flows",
    async (_name, makeError, errorClass, errorCode) => {
      const dlq = `bus-dlq-${errorClass}-${runId}`;
      await ensureTopics(kafka, [dlq], { partitions: 1 });
      const groupId = `dlq-${errorClass}-${runId}`;
      const attempts = new Map<string, number>();
      const handled: string[] = [];
      const group = new ConsumerGroup(kafka, {
        groupId,
        topics: [topic],
        deadLetter: { topic: dlq },
        fromBeginning: true,
        retryDelayMs: 20,
        maxAttempts: 3,
      });
      await group.start(async (m) => {
        const v = m.value!.toString();
        attempts.set(v, (attempts.get(v) ?? 0) + 1);
        if (v === "m2") throw makeError();
        handled.push(v);
      });
      expect(await eventually(() => handled.includes("m4"))).toBe(true);
      expect(await eventually(async () => (await offsetOf(groupId)) === "5")).toBe(true);
      await group.stop();
      expect(handled).toEqual(["m0", "m1", "m3", "m4"]);
      expect(attempts.get("m2")).toBe(3);
      expect(group.deadLetteredCount()).toBe(1);

      const dead: { value: string; headers: Record<string, string> }[] = [];
      const reader = new ConsumerGroup(kafka, {
        groupId: `dlq-reader-${errorClass}-${runId}`,
        topics: [dlq],
        deadLetter: unusedDlq,
        fromBeginning: true,
      });
      await reader.start(async (m) => {
        dead.push({ value: m.value!.toString(), headers: m.headers });
      });
      expect(await eventually(() => dead.length >= 1)).toBe(true);
      await reader.stop();
      await deleteTopics([dlq]);
      expect(dead).toHaveLength(1);
      expect(dead[0]?.value).toBe("m2");
      expect(dead[0]?.headers).toMatchObject({
        [DLQ_HEADERS.reason]: makeError().message,
        [DLQ_HEADERS.errorClass]: errorClass,
        [DLQ_HEADERS.errorCode]: errorCode,
        [DLQ_HEADERS.sourceTopic]: topic,
        [DLQ_HEADERS.sourcePartition]: "0",
        [DLQ_HEADERS.sourceOffset]: "2",
        [DLQ_HEADERS.consumer]: groupId,
        [DLQ_HEADERS.attempts]: "3",
      });
    },
  );
});
