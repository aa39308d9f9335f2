// Clients of servers reached across the WAN. Every call is bounded: a cut link stalls open connections
// rather than closing them, so without a timeout a command would wait for the heal.
import { Redis } from "ioredis";
import pg from "pg";
import type { WanNetwork } from "./wan-network.js";

export interface WanClientOptions {
  /** Bound of one command / query (default 3000 ms). */
  timeoutMs?: number;
  /** The server's own URL: its user and password are kept (the proxy changes only host and port). */
  credentialsOf?: string;
}

function credentials(url: string): { username?: string; password?: string } {
  const u = new URL(url);
  return {
    ...(u.username ? { username: decodeURIComponent(u.username) } : {}),
    ...(u.password ? { password: decodeURIComponent(u.password) } : {}),
  };
}

/** An ioredis client in region `from` for Redis service `name` (logical DB `db`). */
export function redisOverWan(
  network: WanNetwork,
  from: string,
  name: string,
  db: number,
  opts: WanClientOptions = {},
): Redis {
  const timeoutMs = opts.timeoutMs ?? 3000;
  const client = new Redis({
    ...network.address(from, name),
    ...(opts.credentialsOf ? credentials(opts.credentialsOf) : {}),
    db,
    commandTimeout: timeoutMs,
    connectTimeout: timeoutMs,
    maxRetriesPerRequest: 1,
  });
  client.on("error", () => {}); // surfaced per command
  return client;
}

/** A pg pool in region `from` for PostgreSQL service `name`, on `schema` of the database of `pgUrl`. */
export function pgPoolOverWan(
  network: WanNetwork,
  from: string,
  name: string,
  pgUrl: string,
  opts: WanClientOptions & { schema?: string; max?: number } = {},
): pg.Pool {
  const at = network.address(from, name);
  const url = new URL(pgUrl);
  url.hostname = at.host;
  url.port = String(at.port);
  const timeoutMs = opts.timeoutMs ?? 3000;
  const pool = new pg.Pool({
    connectionString: url.toString(),
    max: opts.max ?? 4,
    connectionTimeoutMillis: timeoutMs,
    query_timeout: timeoutMs,
    ...(opts.schema ? { options: `-c search_path=${opts.schema}` } : {}),
  });
  pool.on("error", () => {});
  return pool;
}

/** host:port of a redis:// or postgres:// URL (default port when absent). */
export function endpointOf(url: string, defaultPort: number): { host: string; port: number } {
  const u = new URL(url);
  return { host: u.hostname, port: Number(u.port || defaultPort) };
}
