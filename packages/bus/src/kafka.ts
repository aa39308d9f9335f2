// kafkajs client factory; kafkajs' own logging is routed into pino at warn and above.

import { readFileSync } from "node:fs";
import {
  AuthenticationError,
  BackendUnavailableError,
  type KafkaAuth,
  type MeridianConfig,
  type MeridianError,
} from "@meridian/core";
import { Kafka, type KafkaConfig, type LogEntry, logLevel } from "kafkajs";
import pino, { type Logger } from "pino";
import { installSyncGzipCodec } from "./gzip-codec.js";

let defaultLogger: Logger | undefined;
function busLogger(): Logger {
  defaultLogger ??= pino({ name: "meridian-bus", level: process.env.LOG_LEVEL ?? "warn" });
  return defaultLogger;
}

/** A kafkajs logCreator writing into `logger`. */
export function pinoLogCreator(logger: Logger) {
  return () =>
    ({ namespace, level, log }: LogEntry) => {
      const { message, ...extra } = log;
      const fields = { kafka: namespace, ...extra };
      // kafkajs logs retried, recoverable failures at ERROR; final failures reach callers as thrown errors.
      if (level === logLevel.ERROR || level === logLevel.WARN) logger.warn(fields, message);
      else logger.debug(fields, message);
    };
}

/** kafkajs' sasl/ssl options from configFromEnv().kafkaAuth (SCRAM or PLAIN over TLS or plaintext). */
export function kafkaSecurity(auth: KafkaAuth | undefined): Pick<KafkaConfig, "sasl" | "ssl"> {
  if (!auth) return {};
  const out: Pick<KafkaConfig, "sasl" | "ssl"> = {};
  if (auth.tls) out.ssl = auth.caFile ? { ca: [readFileSync(auth.caFile, "utf8")] } : true;
  if (auth.sasl) {
    const { mechanism, username, password } = auth.sasl;
    out.sasl = { mechanism, username, password: password.reveal() } as KafkaConfig["sasl"];
  }
  return out;
}

/**
 * Reconnect back-off: kafkajs' default doubles up to 30 s, so after a long broker outage a client could sit
 * out most of the 5 s convergence window before trying again. Capped at 1 s, the same number of retries
 * spans about as long in total (~7 s) while a returning broker is noticed within a second.
 */
export const KAFKA_RETRY = { initialRetryTime: 100, maxRetryTime: 1_000, retries: 8 } as const;

export function createKafka(config: MeridianConfig, clientId: string, logger: Logger = busLogger()): Kafka {
  installSyncGzipCodec();
  return new Kafka({
    clientId,
    brokers: config.kafkaBrokers,
    retry: KAFKA_RETRY,
    logLevel: logLevel.WARN,
    logCreator: pinoLogCreator(logger),
    ...kafkaSecurity(config.kafkaAuth),
  });
}

/**
 * A failed connect as a typed error: credentials the broker refused (SASL) are an AuthenticationError —
 * retrying cannot help — anything else BackendUnavailableError. kafkajs' messages name the mechanism,
 * never the password.
 */
export function kafkaConnectError(
  err: Error,
  what: string,
  details: Readonly<Record<string, unknown>> = {},
): MeridianError {
  const refused = refusedCredentials(err);
  const message = `${what}: ${err.message}`;
  return refused
    ? new AuthenticationError(message, { backend: "kafka", ...details })
    : new BackendUnavailableError(message, { backend: "kafka", ...details });
}

/**
 * kafkajs marks a refused login by class (KafkaJSSASLAuthenticationError, or the broker's
 * SASL_AUTHENTICATION_FAILED protocol error) and may wrap it (KafkaJSNonRetriableError, retries
 * exceeded) with the original as `cause`; the class is checked down that chain, never the message.
 */
function refusedCredentials(err: unknown): boolean {
  let e: unknown = err;
  for (let depth = 0; e instanceof Error && depth < 8; depth++, e = e.cause) {
    if (e.name === "KafkaJSSASLAuthenticationError") return true;
    if ((e as { type?: unknown }).type === "SASL_AUTHENTICATION_FAILED") return true;
  }
  return false;
}
