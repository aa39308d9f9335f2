// ensureTopics returns only when the new topics are usable: on a KRaft broker a produce right after
// createTopics({ waitForLeaders: true }) can fail with UNKNOWN_TOPIC_OR_PARTITION (tulios/kafkajs#1563).

import { Kafka, logLevel } from "kafkajs";
import { afterAll, describe, expect, it } from "vitest";
import { ensureTopics } from "../../packages/bus/src/index.js";
import { waitForLeaders } from "../../packages/bus/src/topics.js";
import { BackendUnavailableError } from "../../packages/core/src/index.js";
import { config, deleteTopics, runId } from "../support/bus.js";

// No client retries anywhere: a produce the broker refuses must fail the test, not be retried away.
const strict = new Kafka({
  clientId: `bus-ready-${runId}`,
  brokers: config.kafkaBrokers,
  logLevel: logLevel.NOTHING,
  retry: { retries: 0 },
});
const created: string[] = [];

afterAll(async () => {
  await deleteTopics(created);
});

describe("ensureTopics readiness", () => {
  it("every partition accepts a produce immediately after ensureTopics (fresh topics, 10 rounds)", async () => {
    const PARTITIONS = 6;
    const producer = strict.producer({ allowAutoTopicCreation: false, retry: { retries: 0 } });
    await producer.connect();
    try {
      for (let round = 0; round < 10; round++) {
        const names = [`bus-ready-${runId}-${round}-a`, `bus-ready-${runId}-${round}-b`];
        created.push(...names);
        expect(await ensureTopics(strict, names, { partitions: PARTITIONS })).toEqual(names);
        for (const topic of names) {
          const acks = await producer.send({
            topic,
            acks: -1,
            messages: Array.from({ length: PARTITIONS }, (_, partition) => ({
              partition,
              key: `k${partition}`,
              value: `round ${round}`,
            })),
          });
          expect(acks.map((a) => a.partition).sort()).toEqual(
            Array.from({ length: PARTITIONS }, (_, p) => p),
          );
          expect(acks.every((a) => a.errorCode === 0)).toBe(true);
        }
      }
    } finally {
      await producer.disconnect();
    }
  });

  it("fails with BackendUnavailableError when a topic never gets a leader", async () => {
    const admin = strict.admin();
    await admin.connect();
    try {
      const t0 = Date.now();
      const err = await waitForLeaders(admin, [`bus-ready-${runId}-never-created`], 800).catch((e) => e);
      expect(err).toBeInstanceOf(BackendUnavailableError);
      expect((err as Error).message).toMatch(/never-created/);
      // Bounded: gives up near the timeout instead of polling forever.
      expect(Date.now() - t0).toBeLessThan(15_000);
    } finally {
      await admin.disconnect();
    }
  });
});
