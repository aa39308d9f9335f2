// A StrongProbe over a running cluster: the database version from the strong table (the source of
// truth, through the cluster's PostgreSQL pool) and the version a read of `critical` data returns in each
// region (through the region node's HTTP API — exactly what a client would be served).
import type { KeyValueTarget, StrongProbe } from "@meridian/monitor";

export interface Queryable {
  query(text: string, values: unknown[]): Promise<{ rows: Array<Record<string, unknown>> }>;
}

export function httpStrongProbe(o: {
  /** Region → base URL of its node. */
  nodes: Record<string, string>;
  pool: Queryable;
  /** The strong tier's table (default meridian_strong, found through the pool's search_path). */
  table?: string;
  keys: () => readonly string[];
  /** Sent with every request (a bearer token when reads need one). */
  headers?: Record<string, string>;
}): StrongProbe {
  const table = o.table ?? "meridian_strong";
  if (!/^[a-z_][a-z0-9_]*$/.test(table)) throw new Error(`bad table name ${table}`);
  const regions = Object.keys(o.nodes);
  return {
    regions: () => regions,
    candidateKeys: async () => o.keys(),
    async readDbVersion(key) {
      const r = await o.pool.query(`SELECT version FROM ${table} WHERE key = $1`, [key]);
      const v = Number(r.rows[0]?.version ?? 0);
      return v > 0 ? v : null;
    },
    async readCacheVersion(key, region) {
      const res = await fetch(`${o.nodes[region]}/v1/critical/${encodeURIComponent(key)}`, {
        headers: o.headers ?? {},
        signal: AbortSignal.timeout(5000),
      });
      if (res.status === 404) {
        await res.body?.cancel();
        return null;
      }
      if (!res.ok) throw new Error(`critical read of ${key} in ${region}: HTTP ${res.status}`);
      const body = (await res.json()) as { version?: unknown };
      return typeof body.version === "number" ? body.version : null;
    },
  };
}

/** The `critical` class of the region nodes' HTTP API as a KeyValueTarget, for the race / stress suites. */
export function httpCriticalTarget(
  nodes: Record<string, string>,
  headers: Record<string, string> = {},
): KeyValueTarget {
  const regions = Object.keys(nodes);
  const url = (region: string, key: string) => `${nodes[region]}/v1/critical/${encodeURIComponent(key)}`;
  return {
    regions: () => regions,
    async read(key, region) {
      const res = await fetch(url(region, key), { headers, signal: AbortSignal.timeout(5000) });
      if (res.status === 404) {
        await res.body?.cancel();
        return { value: null, version: null };
      }
      if (!res.ok) throw new Error(`critical read of ${key} in ${region}: HTTP ${res.status}`);
      const body = (await res.json()) as { value: unknown; version?: unknown };
      return { value: body.value, version: typeof body.version === "number" ? body.version : null };
    },
    async write(key, value, region) {
      const res = await fetch(url(region, key), {
        method: "PUT",
        headers: { ...headers, "content-type": "application/json" },
        body: JSON.stringify({ value }),
        signal: AbortSignal.timeout(5000),
      });
      if (!res.ok) throw new Error(`critical write of ${key} in ${region}: HTTP ${res.status}`);
      const body = (await res.json()) as { version?: unknown };
      return { version: typeof body.version === "number" ? body.version : null };
    },
  };
}
