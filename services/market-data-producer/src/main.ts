// Runs the market-data producer as a process. Env: see services/README.md.
import { configFromEnv } from "@meridian/core";
import { createLogger, envInt, listenFromEnv, stopOnSignals } from "@meridian/service-kit";
import { startMarketDataProducer } from "./index.js";

const env = process.env;
const logger = createLogger("market-data-producer");
const handle = await startMarketDataProducer({
  ...listenFromEnv(env, 8110),
  config: configFromEnv(env),
  ...(env.MERIDIAN_NAMESPACE ? { namespace: env.MERIDIAN_NAMESPACE } : {}),
  symbols: envInt(env, "MERIDIAN_SYMBOLS", 20),
  ticksPerSecond: envInt(env, "MERIDIAN_TICKS_PER_SECOND", 50),
  logger,
  processMetrics: true,
});
logger.info({ url: handle.url, symbols: handle.symbols.length }, "producing");
stopOnSignals(() => handle.stop(), logger);
