// `meridian monitor` as a process: settings from the environment, stopped by SIGINT / SIGTERM.
import { configFromEnv } from "@meridian/core";
import {
  createLogger,
  layoutFromEnv,
  listenFromEnv,
  resolveLayout,
  stopOnSignals,
} from "@meridian/service-kit";
import { startMonitorService } from "./monitor-service.js";

export async function runMonitorCommand(env: NodeJS.ProcessEnv = process.env): Promise<void> {
  const logger = createLogger("monitor");
  const service = await startMonitorService({
    config: configFromEnv(env),
    layout: resolveLayout(layoutFromEnv(env)),
    ...listenFromEnv(env, 8090),
    logger,
  });
  logger.info({ url: service.url }, "listening");
  stopOnSignals(() => service.stop(), logger);
}
