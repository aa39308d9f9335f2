// Entry point: `tsx services/schema-registry/src/main.ts`. Env: MERIDIAN_KAFKA_BROKERS, SCHEMA_REGISTRY_PORT
// (default 8081), SCHEMA_REGISTRY_HOST (default 127.0.0.1), SCHEMA_REGISTRY_TOPIC (default _schemas), LOG_LEVEL.
import { configFromEnv } from "@meridian/core";
import pino from "pino";
import { startSchemaRegistry } from "./index.js";

const logger = pino({ name: "schema-registry", level: process.env.LOG_LEVEL ?? "info" });
const port = Number(process.env.SCHEMA_REGISTRY_PORT ?? "8081");

try {
  const registry = await startSchemaRegistry({
    brokers: configFromEnv().kafkaBrokers,
    port,
    host: process.env.SCHEMA_REGISTRY_HOST ?? "127.0.0.1",
    topic: process.env.SCHEMA_REGISTRY_TOPIC ?? "_schemas",
    logger,
  });
  const shutdown = async (signal: string) => {
    logger.info({ signal }, "shutting down");
    // Never hang on a broker that is gone: leave after 5 s whatever the disconnects do.
    setTimeout(() => process.exit(0), 5_000).unref();
    await registry.close().catch((err: unknown) => logger.warn({ err }, "unclean shutdown"));
    process.exit(0);
  };
  process.once("SIGTERM", () => void shutdown("SIGTERM"));
  process.once("SIGINT", () => void shutdown("SIGINT"));
} catch (err) {
  logger.fatal({ err }, "schema registry failed to start");
  process.exit(1);
}
