// Shared set-up of the bus integration tests: a registry (ours, started here on a free port against the
// configured broker, unless MERIDIAN_SCHEMA_REGISTRY_URL points at one) and per-run topic names.
import { randomUUID } from "node:crypto";
import { startSchemaRegistry } from "@meridian/schema-registry";
import { Kafka, logLevel } from "kafkajs";
import pino from "pino";
import { configFromEnv } from "../../packages/core/src/index.js";

export const config = configFromEnv();
export const runId = randomUUID().slice(0, 8);

export function testKafka(name: string): Kafka {
  return new Kafka({
    clientId: `${name}-${runId}`,
    brokers: config.kafkaBrokers,
    logLevel: logLevel.NOTHING,
  });
}

export interface TestRegistry {
  url: string;
  close(): Promise<void>;
}

export async function testRegistry(): Promise<TestRegistry> {
  if (process.env.MERIDIAN_SCHEMA_REGISTRY_URL) {
    return { url: process.env.MERIDIAN_SCHEMA_REGISTRY_URL, close: async () => {} };
  }
  const topic = `_schemas-bus-test-${runId}`;
  const running = await startSchemaRegistry({
    brokers: config.kafkaBrokers,
    port: 0,
    topic,
    logger: pino({ level: "warn" }),
  });
  return {
    url: running.url,
    close: async () => {
      await running.close();
      const admin = testKafka("cleanup").admin();
      await admin.connect();
      await admin.deleteTopics({ topics: [topic] }).catch(() => {});
      await admin.disconnect();
    },
  };
}

export async function deleteTopics(names: string[]): Promise<void> {
  const admin = testKafka("cleanup").admin();
  await admin.connect();
  await admin.deleteTopics({ topics: names }).catch(() => {});
  await admin.disconnect();
}

/** Polls `cond` until it holds or `timeoutMs` passes; returns whether it held. */
export async function eventually(
  cond: () => boolean | Promise<boolean>,
  timeoutMs = 30_000,
): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await cond()) return true;
    await new Promise((r) => setTimeout(r, 50));
  }
  return cond();
}

/** The offset `groupId` committed on partition 0 of `topic` (next to read), or undefined. */
export async function committedOffset(groupId: string, topic: string): Promise<string | undefined> {
  const admin = testKafka("offsets").admin();
  await admin.connect();
  const [entry] = await admin.fetchOffsets({ groupId, topics: [topic] });
  await admin.disconnect();
  return entry?.partitions.find((p) => p.partition === 0)?.offset;
}
