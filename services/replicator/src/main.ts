// Runs the replicator as a process. Env: see services/README.md.
import { configFromEnv } from "@meridian/core";
import { createLogger, envInt, layoutFromEnv, listenFromEnv, stopOnSignals } from "@meridian/service-kit";
import { parseLatencyEnv } from "@meridian/wan";
import { startReplicator } from "./index.js";

const env = process.env;
const logger = createLogger("replicator");
const latencyMs = parseLatencyEnv(env.MERIDIAN_WAN_LATENCY_MS);
const handle = await startReplicator({
  ...layoutFromEnv(env),
  ...listenFromEnv(env, 8090),
  config: configFromEnv(env),
  logger,
  processMetrics: true,
  maxHeld: envInt(env, "MERIDIAN_REPLICATOR_MAX_HELD", 200_000),
  ...(latencyMs !== undefined ? { latencyMs } : {}),
});
logger.info({ url: handle.url }, "listening");
stopOnSignals(() => handle.stop(), logger);
