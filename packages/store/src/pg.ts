// PostgreSQL client factory and health check.
import { BackendUnavailableError, type PgAuth } from "@meridian/core";
import pg from "pg";

export type PgPool = pg.Pool;

export interface PgPoolOptions {
  /** Maximum pooled connections (default 10). */
  max?: number;
  /** search_path to set on every connection (per-test schema isolation). */
  searchPath?: string;
  /** Server-side bound on one statement (default 5000 ms). */
  statementTimeoutMs?: number;
  /** Server ends a session idle inside a transaction this long, releasing its row locks (default 10 000 ms). */
  idleInTransactionTimeoutMs?: number;
  /** Client-side bound on one query, for a server that does not answer at all (default 6000 ms). */
  queryTimeoutMs?: number;
  /** Bound on getting a connection (pool checkout or connect; default 3000 ms). */
  connectionTimeoutMs?: number;
  /** Password and TLS (configFromEnv().pgAuth); the password is never part of the configured URL. */
  auth?: PgAuth;
}

/** Session settings (libpq `options`) that bound statements and idle transactions on the server side. */
export function boundedPgOptions(opts: PgPoolOptions = {}): string {
  const parts = [
    `-c statement_timeout=${opts.statementTimeoutMs ?? 5_000}`,
    `-c idle_in_transaction_session_timeout=${opts.idleInTransactionTimeoutMs ?? 10_000}`,
  ];
  if (opts.searchPath !== undefined) parts.push(`-c search_path=${opts.searchPath}`);
  return parts.join(" ");
}

/** A pg connection pool for `url` (postgres://user@host:port/db), every wait bounded. */
export function createPgPool(url: string, opts: PgPoolOptions = {}): pg.Pool {
  const pool = new pg.Pool({
    connectionString: withPassword(url, opts.auth?.password?.reveal()),
    max: opts.max ?? 10,
    connectionTimeoutMillis: opts.connectionTimeoutMs ?? 3_000,
    query_timeout: opts.queryTimeoutMs ?? 6_000,
    options: boundedPgOptions(opts),
    ...(opts.auth?.ssl ? { ssl: true } : {}),
  });
  // An idle client losing its connection emits 'error' on the pool; without a listener Node would crash.
  pool.on("error", () => {});
  return pool;
}

/**
 * pg lets the fields parsed from `connectionString` override the separate options, and a URL without a
 * password parses as password null: a `password` option next to it is silently dropped. So the password
 * goes into the connection string handed to pg (in memory only; never logged, never in MERIDIAN_PG_URL).
 */
function withPassword(url: string, password: string | undefined): string {
  if (password === undefined) return url;
  const u = new URL(url);
  u.password = encodeURIComponent(password);
  return u.toString();
}

/** Resolves when PostgreSQL answers a query; otherwise throws BackendUnavailableError. */
export async function checkPg(pool: pg.Pool): Promise<void> {
  try {
    const res = await pool.query({ text: "SELECT 1 AS ok", query_timeout: 3_000 } as pg.QueryConfig);
    if (res.rows[0]?.ok !== 1) throw new Error("unexpected reply to SELECT 1");
  } catch (err) {
    throw new BackendUnavailableError(`PostgreSQL unavailable: ${(err as Error).message}`, {
      backend: "postgres",
    });
  }
}
