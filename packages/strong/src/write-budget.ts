// Time bounds and connection handling of one write transaction.
import { BackendUnavailableError } from "@meridian/core";
import { typedBackendError, withDeadline } from "@meridian/store";
import type pg from "pg";

/** What is left of a write's time budget; every step of the write is bounded by it. */
export class WriteBudget {
  private readonly end: number;
  constructor(readonly totalMs: number) {
    this.end = performance.now() + totalMs;
  }
  leftMs(): number {
    return Math.max(1, this.end - performance.now());
  }
  bound<T>(backend: "redis" | "postgres", what: string, call: Promise<T>, capMs = Number.POSITIVE_INFINITY) {
    return withDeadline(backend, what, Math.min(this.leftMs(), capMs), call);
  }
}

/** A pooled connection within the budget; one that arrives too late goes straight back to the pool. */
export async function checkout(pool: pg.Pool, budget: WriteBudget): Promise<pg.PoolClient> {
  const pending = pool.connect();
  try {
    return await budget.bound("postgres", "connection checkout", pending);
  } catch (err) {
    pending.then((c) => c.release()).catch(() => {});
    throw err;
  }
}

const guarded = new WeakSet<pg.PoolClient>();
/** A checked-out client whose connection dies emits 'error'; without a listener Node would crash. */
export function guardClient(client: pg.PoolClient): void {
  if (guarded.has(client)) return;
  guarded.add(client);
  client.on("error", () => {});
}

/**
 * A failure typed for the caller. PostgreSQL ending a statement at `statement_timeout` (57014) is the
 * server-side half of our time bounds, so it is a BackendUnavailableError like the client-side one.
 */
export function typedError(err: unknown): unknown {
  if ((err as { code?: unknown })?.code === "57014") {
    return new BackendUnavailableError(`postgres: ${(err as Error).message}`, {
      backend: "postgres",
      cause: String(err),
    });
  }
  return typedBackendError(err, backendOf(err));
}

/** pg errors carry a `severity` (server errors) or come from the pg client's connection handling. */
function backendOf(err: unknown): "postgres" | "redis" {
  const e = err as { severity?: unknown; message?: string };
  if (e?.severity !== undefined) return "postgres";
  return /Connection terminated|Client has encountered|timeout exceeded when trying to connect/i.test(
    String(e?.message ?? ""),
  )
    ? "postgres"
    : "redis";
}
