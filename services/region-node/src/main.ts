// Runs one region node as a process. Env: see services/README.md.
import { configFromEnv } from "@meridian/core";
import {
  createLogger,
  envInt,
  envRequired,
  layoutFromEnv,
  listenFromEnv,
  startRegionNode,
  stopOnSignals,
} from "@meridian/meridian";

const env = process.env;
const region = envRequired(env, "MERIDIAN_REGION");
const logger = createLogger("region-node", { region });
const handle = await startRegionNode({
  ...layoutFromEnv(env),
  ...listenFromEnv(env, 8080),
  region,
  config: configFromEnv(env),
  logger,
  processMetrics: true,
  cacheableTtlMs: envInt(env, "MERIDIAN_CACHEABLE_TTL_MS", 1000),
  ingestMarketData: env.MERIDIAN_INGEST_MARKET_DATA === "1" || env.MERIDIAN_INGEST_MARKET_DATA === "true",
});
logger.info({ url: handle.url }, "listening");
stopOnSignals(() => handle.stop(), logger);
