// A kafkajs consumer stops for good on a non-retriable error (the production incident: UNKNOWN_MEMBER_ID
// on an offset commit, `restart: false`). The ConsumerGroup's supervisor must replace it: the crash is
// injected by a wrapper around the real kafkajs client (the broker is real), and records produced after
// the crash must still be handled, with the restart counted in health() and in Prometheus.
import pino from "pino";
import { Registry } from "prom-client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  ConsumerGroup,
  createKafka,
  ensureTopics,
  IdempotentProducer,
  registerConsumerMetrics,
} from "../../packages/bus/src/index.js";
import { config, deleteTopics, eventually, runId } from "../support/bus.js";
import { crashingKafka } from "../support/kafka-faults.js";

const topic = `bus-supervise-${runId}`;
const kafka = createKafka(config, `bus-supervise-${runId}`);

beforeAll(async () => {
  await ensureTopics(kafka, [topic], { partitions: 2 });
});

afterAll(async () => {
  await deleteTopics([topic]);
});

describe("supervised ConsumerGroup", () => {
  it("restarts after a non-retriable crash and keeps handling records, counted in metrics", async () => {
    const { kafka: faulty, injected } = crashingKafka(kafka, 2);
    const group = new ConsumerGroup(faulty, {
      groupId: `supervise-${runId}`,
      topics: [topic],
      deadLetter: { topic: `bus-supervise-dlq-${runId}` },
      fromBeginning: true,
      restart: { initialMs: 100, maxMs: 400 },
      logger: pino({ level: "silent" }),
    });
    const registry = new Registry();
    registerConsumerMetrics(registry, () => group.health());
    const causes: string[] = [];
    group.onRestart((err) => causes.push(err.name));
    const seen = new Set<string>();
    await group.start(async (m) => {
      seen.add(m.value!.toString());
    });
    const producer = new IdempotentProducer(kafka);
    const values = Array.from({ length: 40 }, (_, i) => `v${i}`);
    await producer.send(
      topic,
      values.slice(0, 20).map((v) => ({ key: v, value: Buffer.from(v) })),
    );
    expect(await eventually(() => group.health().restarts === 2, 30_000)).toBe(true);
    expect(injected()).toBe(2);
    // Produced after the crashes: only a restarted consumer can see these.
    await producer.send(
      topic,
      values.slice(20).map((v) => ({ key: v, value: Buffer.from(v) })),
    );
    expect(await eventually(() => values.every((v) => seen.has(v)), 60_000)).toBe(true);
    const health = group.health();
    expect(health.state).toBe("running");
    expect(health.stalled).toBe(false);
    expect(health.lastCrash).toMatch(/KafkaJSNonRetriableError/);
    expect(causes.length).toBeGreaterThanOrEqual(2);
    const exposition = await registry.metrics();
    const restarts = exposition.match(/^meridian_consumer_restarts_total\{consumer="[^"]+"\} (\d+)/m);
    expect(Number(restarts?.[1])).toBe(health.restarts);
    expect(exposition).toMatch(/^meridian_consumer_stalled\{consumer="[^"]+"\} 0$/m);
    await group.stop();
    await producer.disconnect();
  });

  it("without the supervisor the same crash stops kafkajs for good (the fault is real)", async () => {
    const { kafka: faulty } = crashingKafka(kafka, 1);
    const consumer = faulty.consumer({ groupId: `unsupervised-${runId}`, maxWaitTimeInMs: 100 });
    const crashes: boolean[] = [];
    consumer.on(consumer.events.CRASH, (e) => crashes.push(e.payload.restart));
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({ eachBatch: async () => {} });
    expect(await eventually(() => crashes.length > 0, 30_000)).toBe(true);
    expect(crashes).toEqual([false]);
    await consumer.disconnect();
  });
});
