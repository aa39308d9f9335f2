// Entry point: `tsx services/schema-registry/src/main.ts`. Env: MERIDIAN_KAFKA_BROKERS, SCHEMA_REGISTRY_PORT
// (default 8081), SCHEMA_REGISTRY_HOST (default 127.0.0.1), SCHEMA_REGISTRY_TOPIC (default _schemas), LOG_LEVEL,
// SCHEMA_REGISTRY_START_TIMEOUT_MS (default 60000: how long to keep retrying while the broker is not up yet),
// MERIDIAN_SCHEMA_REGISTRY_TOKEN(_FILE) or MERIDIAN_AUTH_TOKEN(_FILE): the bearer token of its write routes.
import { configFromEnv } from "@meridian/core";
import pino from "pino";
import { type RunningSchemaRegistry, startSchemaRegistry } from "./index.js";

const logger = pino({ name: "schema-registry", level: process.env.LOG_LEVEL ?? "info" });
const port = Number(process.env.SCHEMA_REGISTRY_PORT ?? "8081");

const startDeadline = Date.now() + Number(process.env.SCHEMA_REGISTRY_START_TIMEOUT_MS ?? "60000");

/** Starts the registry, retrying while the broker is still coming up (infra may start both together). */
async function startWithRetry(): Promise<RunningSchemaRegistry> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await startSchemaRegistry({
        brokers: configFromEnv().kafkaBrokers,
        port,
        host: process.env.SCHEMA_REGISTRY_HOST ?? "127.0.0.1",
        topic: process.env.SCHEMA_REGISTRY_TOPIC ?? "_schemas",
        logger,
      });
    } catch (err) {
      const code = (err as { code?: string }).code;
      if (code === "EADDRINUSE" || Date.now() > startDeadline) throw err;
      logger.warn({ err, attempt }, "schema registry start failed; retrying");
      await new Promise((r) => setTimeout(r, 1_000));
    }
  }
}

try {
  const registry = await startWithRetry();
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
