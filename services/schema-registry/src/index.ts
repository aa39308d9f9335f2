// Starts a schema registry speaking the subset of Confluent's REST API that @kafkajs/confluent-schema-registry
// uses, backed by a compacted Kafka topic. Usable in-process (tests) and from main.ts (infra).
import type { AddressInfo } from "node:net";
import { createKafka } from "@meridian/bus";
import { configFromEnv, type HttpAuth } from "@meridian/core";
import pino, { type Logger } from "pino";
import { createRegistryServer } from "./http.js";
import { KafkaLog } from "./kafka-log.js";
import { Registry } from "./registry.js";
import { RegistryState } from "./state.js";

export interface SchemaRegistryOptions {
  brokers: string[];
  /** HTTP port; 0 picks a free one. */
  port?: number;
  host?: string;
  /** Compacted topic holding the schemas (default `_schemas`). */
  topic?: string;
  logger?: Logger;
  /**
   * Bearer token of the state-changing routes (register, delete, config); none → they are refused.
   * Default: MERIDIAN_SCHEMA_REGISTRY_TOKEN(_FILE), else MERIDIAN_AUTH_TOKEN(_FILE); MERIDIAN_AUTH_READS.
   */
  auth?: HttpAuth;
}

export interface RunningSchemaRegistry {
  url: string;
  port: number;
  topic: string;
  close(): Promise<void>;
}

export async function startSchemaRegistry(opts: SchemaRegistryOptions): Promise<RunningSchemaRegistry> {
  const logger = opts.logger ?? pino({ name: "schema-registry", level: process.env.LOG_LEVEL ?? "info" });
  const topic = opts.topic ?? "_schemas";
  // The bus's one Kafka client factory: the deployment's SASL / TLS settings (MERIDIAN_KAFKA_*) apply here too.
  const kafka = createKafka(
    { ...configFromEnv(), kafkaBrokers: opts.brokers },
    "meridian-schema-registry",
    logger,
  );
  const state = new RegistryState();
  const log = new KafkaLog(kafka, topic, logger);
  let skipped = 0;
  try {
    await log.start((key, value, offset) => {
      if (!state.apply(key, value)) {
        skipped++;
        logger.warn({ offset: offset.toString(), key }, "skipped unreadable schema log record");
      }
    });
  } catch (err) {
    await log.stop(); // a failed start must not leave clients connected
    throw err;
  }
  const registry = new Registry(state, log);
  const server = createRegistryServer(
    registry,
    logger,
    () => ({
      status: log.failure ? "failing" : "ok",
      ...(log.failure ? { failure: log.failure } : {}),
      topic,
      schemas: state.schemaCount(),
      subjects: state.subjectNames().length,
      skippedRecords: skipped,
    }),
    opts.auth ?? registryAuthFromEnv(),
  );
  const host = opts.host ?? "127.0.0.1";
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(opts.port ?? 8081, host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  logger.info({ port, topic, schemas: state.schemaCount() }, "schema registry listening");
  return {
    url: `http://${host}:${port}`,
    port,
    topic,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await log.stop();
    },
  };
}

function registryAuthFromEnv(): HttpAuth {
  const config = configFromEnv();
  const token = config.schemaRegistryToken;
  return { ...(token ? { token } : {}), reads: config.httpAuth?.reads ?? false };
}
