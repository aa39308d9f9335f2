// The one place that maps driver failures (ioredis, pg) to typed errors. Drivers give few failures a code,
// so connection trouble is also recognised by message — here and nowhere else. Connection-level trouble
// becomes BackendUnavailableError, our own typed errors pass through, anything else (a constraint, a bug)
// is rethrown as is.
import { BackendUnavailableError, MeridianError } from "@meridian/core";

const CONNECTION_CODES = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "EPIPE",
  "ETIMEDOUT",
  "57P01",
  "57P02",
  "57P03",
]);

export function isConnectionError(err: unknown): boolean {
  const e = err as { code?: string; message?: string };
  if (e?.code && (CONNECTION_CODES.has(e.code) || e.code.startsWith("08"))) return true;
  const m = String(e?.message ?? "");
  return /Connection terminated|connection is closed|Connection is closed|terminating connection|Client has encountered a connection error|MaxRetriesPerRequest|Stream isn't writeable|Query read timeout|Command timed out|timeout exceeded when trying to connect|ECONNREFUSED|ECONNRESET|EPIPE|ETIMEDOUT|connect/i.test(
    m,
  );
}

export function typedBackendError(err: unknown, backend: "postgres" | "redis"): unknown {
  if (err instanceof MeridianError) return err;
  if (isConnectionError(err)) {
    return new BackendUnavailableError(`${backend}: ${(err as Error).message}`, {
      backend,
      cause: String(err),
    });
  }
  return err;
}

/** PostgreSQL asks the client to retry the transaction (deadlock victim, serialization failure). */
export function isRetryablePgError(err: unknown): boolean {
  const code = (err as { code?: string })?.code;
  return code === "40P01" || code === "40001";
}
