// Runs one region node as a process. Env: see services/README.md.
import { configFromEnv } from "@meridian/core";
import { pgWriterIncarnations } from "@meridian/eventual";
import {
  createLogger,
  envInt,
  envRequired,
  layoutFromEnv,
  listenFromEnv,
  resolveLayout,
  stopOnSignals,
} from "@meridian/service-kit";
import { createStrongCritical, startRegionNode } from "./index.js";

const env = process.env;
const region = envRequired(env, "MERIDIAN_REGION");
const logger = createLogger("region-node", { region });
const layout = layoutFromEnv(env);
const config = configFromEnv(env);
// critical data needs PostgreSQL; MERIDIAN_CRITICAL=off runs the node without it (critical → 501).
const strong =
  env.MERIDIAN_CRITICAL === "off"
    ? undefined
    : await createStrongCritical(config, resolveLayout(layout), {
        ...(env.MERIDIAN_PG_SCHEMA ? { schema: env.MERIDIAN_PG_SCHEMA } : {}),
      });
const handle = await startRegionNode({
  ...layout,
  ...listenFromEnv(env, 8080),
  region,
  config,
  ...(strong ? { criticalPg: { pool: strong.pool }, incarnations: pgWriterIncarnations(strong.pool) } : {}),
  logger,
  processMetrics: true,
  cacheableTtlMs: envInt(env, "MERIDIAN_CACHEABLE_TTL_MS", 1000),
  ingestMarketData: env.MERIDIAN_INGEST_MARKET_DATA === "1" || env.MERIDIAN_INGEST_MARKET_DATA === "true",
});
logger.info({ url: handle.url }, "listening");
stopOnSignals(async () => {
  await handle.stop();
  await strong?.close();
}, logger);
