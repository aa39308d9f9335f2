// Runs one region's invalidation consumer as a process. Env: see services/README.md.
import { configFromEnv } from "@meridian/core";
import {
  createLogger,
  envRequired,
  layoutFromEnv,
  listenFromEnv,
  stopOnSignals,
} from "@meridian/service-kit";
import { parseReplicationMode, startInvalidationConsumer } from "./index.js";

const env = process.env;
const region = envRequired(env, "MERIDIAN_REGION");
const logger = createLogger("invalidation-consumer", { region });
const handle = await startInvalidationConsumer({
  ...layoutFromEnv(env),
  ...listenFromEnv(env, 8100),
  region,
  config: configFromEnv(env),
  logger,
  processMetrics: true,
  replication: parseReplicationMode(env.MERIDIAN_REPLICATION),
});
await handle.ready();
logger.info({ url: handle.url }, "consumer ready");
stopOnSignals(() => handle.stop(), logger);
