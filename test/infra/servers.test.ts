// The servers that infra/up.sh starts (or that MERIDIAN_* points at) really are Kafka, Redis and
// PostgreSQL: cluster metadata, a created topic, Redis and PostgreSQL round-trips.
import { randomUUID } from "node:crypto";
import { Redis } from "ioredis";
import { Kafka, logLevel } from "kafkajs";
import pg from "pg";
import { afterAll, describe, expect, it } from "vitest";
import { configFromEnv } from "../../packages/core/src/index.js";

const config = configFromEnv();
const runId = randomUUID().slice(0, 8);

describe("infra: Kafka", () => {
  const kafka = new Kafka({
    clientId: `infra-test-${runId}`,
    brokers: config.kafkaBrokers,
    logLevel: logLevel.NOTHING,
  });
  const admin = kafka.admin();
  const topic = `meridian.test.infra.${runId}`;

  afterAll(async () => {
    await admin.deleteTopics({ topics: [topic] }).catch(() => {});
    await admin.disconnect();
  });

  it("answers cluster metadata with a broker at the configured address", async () => {
    await admin.connect();
    const cluster = await admin.describeCluster();
    expect(cluster.clusterId).toMatch(/\S{10,}/);
    expect(cluster.brokers.length).toBeGreaterThanOrEqual(1);
    const advertised = cluster.brokers.map((b) => `${b.host}:${b.port}`);
    expect(config.kafkaBrokers.some((b) => advertised.includes(b))).toBe(true);
  });

  it("creates a topic that then appears in the metadata with its partitions", async () => {
    await admin.connect();
    // No waitForLeaders: kafkajs retries only LEADER_NOT_AVAILABLE there, while a KRaft broker may answer
    // UNKNOWN_TOPIC_OR_PARTITION until it has applied the new topic's metadata; poll instead.
    const created = await admin.createTopics({ topics: [{ topic, numPartitions: 3, replicationFactor: 1 }] });
    expect(created).toBe(true);
    let leaders: number[] = [];
    for (let i = 0; i < 100 && leaders.length < 3; i++) {
      const meta = await admin.fetchTopicMetadata({ topics: [topic] }).catch(() => null);
      leaders = (meta?.topics[0]?.partitions ?? []).map((p) => p.leader).filter((l) => l >= 0);
      if (leaders.length < 3) await new Promise((r) => setTimeout(r, 100));
    }
    expect(leaders).toHaveLength(3);
    expect(await admin.listTopics()).toContain(topic);
  });

  it("delivers a produced message to a consumer", async () => {
    const producer = kafka.producer({ idempotent: true });
    const consumer = kafka.consumer({ groupId: `infra-test-${runId}` });
    await producer.connect();
    await consumer.connect();
    try {
      await consumer.subscribe({ topic, fromBeginning: true });
      const received = new Promise<string>((resolveValue) => {
        void consumer.run({ eachMessage: async ({ message }) => resolveValue(String(message.value)) });
      });
      await producer.send({ topic, acks: -1, messages: [{ key: "k", value: `hello-${runId}` }] });
      expect(await received).toBe(`hello-${runId}`);
    } finally {
      await consumer.disconnect();
      await producer.disconnect();
    }
  });
});

describe("infra: Redis", () => {
  const prefix = `test:infra:${runId}:`;
  const redis = new Redis(config.redisUrl, { keyPrefix: prefix, db: 15 });

  afterAll(async () => {
    await redis.del("greeting", "counter");
    redis.disconnect();
  });

  it("answers PING and round-trips SET/GET under a unique prefix", async () => {
    expect(await redis.ping()).toBe("PONG");
    await redis.set("greeting", `hi-${runId}`, "PX", 60_000);
    expect(await redis.get("greeting")).toBe(`hi-${runId}`);
    expect(await redis.incrby("counter", 5)).toBe(5);
    expect(await redis.pttl("greeting")).toBeGreaterThan(0);
  });
});

describe("infra: PostgreSQL", () => {
  const schema = `infra_test_${runId.replace(/-/g, "")}`;
  const pool = new pg.Pool({ connectionString: config.pgUrl, max: 2 });

  afterAll(async () => {
    await pool.query(`drop schema if exists ${schema} cascade`);
    await pool.end();
  });

  it("round-trips a row in a private schema inside a transaction", async () => {
    await pool.query(`create schema ${schema}`);
    await pool.query(
      `create table ${schema}.kv (k text primary key, v jsonb not null, version bigint not null)`,
    );
    const client = await pool.connect();
    try {
      await client.query("begin");
      await client.query(`insert into ${schema}.kv values ($1, $2, 1)`, ["a", { n: 1 }]);
      await client.query(`update ${schema}.kv set v = $2, version = version + 1 where k = $1`, [
        "a",
        { n: 2 },
      ]);
      await client.query("commit");
    } finally {
      client.release();
    }
    const { rows } = await pool.query(`select v, version from ${schema}.kv where k = $1`, ["a"]);
    expect(rows).toEqual([{ v: { n: 2 }, version: "2" }]);
  });
});
