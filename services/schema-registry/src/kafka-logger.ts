// Routes kafkajs' own log lines into pino at warn and above, so they are structured and not noisy.
import { type LogEntry, logLevel } from "kafkajs";
import type { Logger } from "pino";

export function kafkaLogCreator(logger: Logger) {
  return () =>
    ({ namespace, level, log }: LogEntry) => {
      const { message, ...extra } = log;
      const child = { kafka: namespace, ...extra };
      // kafkajs logs retried, recoverable failures at ERROR; final failures reach callers as thrown errors.
      if (level === logLevel.ERROR || level === logLevel.WARN) logger.warn(child, message);
      else logger.debug(child, message);
    };
}
