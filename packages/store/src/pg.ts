// PostgreSQL client factory and health check.
import { BackendUnavailableError, type PgAuth } from "@meridian/core";
import pg from "pg";

export type PgPool = pg.Pool;

export interface PgPoolOptions {
  /** Maximum pooled connections (default 10). */
  max?: number;
  /** search_path to set on every connection (per-test schema isolation). */
  searchPath?: string;
  /** Password and TLS (configFromEnv().pgAuth); the password never goes into the URL. */
  auth?: PgAuth;
}

/** A pg connection pool for `url` (postgres://user@host:port/db). */
export function createPgPool(url: string, opts: PgPoolOptions = {}): pg.Pool {
  const pool = new pg.Pool({
    connectionString: url,
    max: opts.max ?? 10,
    connectionTimeoutMillis: 5_000,
    ...(opts.auth?.password ? { password: opts.auth.password.reveal() } : {}),
    ...(opts.auth?.ssl ? { ssl: true } : {}),
    ...(opts.searchPath !== undefined ? { options: `-c search_path=${opts.searchPath}` } : {}),
  });
  // An idle client losing its connection emits 'error' on the pool; without a listener Node would crash.
  pool.on("error", () => {});
  return pool;
}

/** Resolves when PostgreSQL answers a query; otherwise throws BackendUnavailableError. */
export async function checkPg(pool: pg.Pool): Promise<void> {
  try {
    const res = await pool.query("SELECT 1 AS ok");
    if (res.rows[0]?.ok !== 1) throw new Error("unexpected reply to SELECT 1");
  } catch (err) {
    throw new BackendUnavailableError(`PostgreSQL unavailable: ${(err as Error).message}`, {
      backend: "postgres",
    });
  }
}
