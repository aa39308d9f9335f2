// A durable per-namespace counter in PostgreSQL: one row per namespace, bumped in one statement (the row
// lock orders concurrent callers), so no two calls ever get the same number and a later call always gets
// a larger one — across restarts of every process. Fencing epochs and writer incarnations both use it.
import { InvalidInputError } from "@meridian/core";
import { createIfAbsent } from "./pg-ddl.js";

/** Anything with pg's `query` (a Pool or a client). */
export interface SqlQueryable {
  query<R extends Record<string, unknown>>(text: string, values?: unknown[]): Promise<{ rows: R[] }>;
}

const IDENTIFIER = /^[a-z_][a-z0-9_]*$/;

/**
 * Returns `next(namespace)`: `first` on the first call for a namespace, then first+1, first+2, ...
 * The table (namespace text, <column> bigint) is created on first use.
 */
export function pgCounter(
  db: SqlQueryable,
  table: string,
  column: string,
  first: number,
): (namespace: string) => Promise<number> {
  for (const name of [table, column]) {
    if (!IDENTIFIER.test(name)) throw new InvalidInputError(`bad SQL identifier ${name}`, { name });
  }
  let ready: Promise<unknown> | undefined;
  const create = () =>
    createIfAbsent(
      db,
      `CREATE TABLE IF NOT EXISTS ${table} (namespace text PRIMARY KEY, ${column} bigint NOT NULL)`,
    ).catch((err) => {
      ready = undefined;
      throw err;
    });
  return async (namespace) => {
    ready ??= create();
    await ready;
    const r = await db.query<Record<string, string>>(
      `INSERT INTO ${table} AS t (namespace, ${column}) VALUES ($1, $2)
       ON CONFLICT (namespace) DO UPDATE SET ${column} = t.${column} + 1 RETURNING ${column}`,
      [namespace, first],
    );
    return Number(r.rows[0]![column]);
  };
}
