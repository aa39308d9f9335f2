// Writer incarnations: the vector-clock node (and PN-counter node) a region's writes are counted under.
// Counters live in the region's Redis; if it loses its data they would restart at 1 and reuse numbers the
// other regions already saw (a new write would look dominated and be dropped, a PN increment absorbed by
// max). So each time a region's Redis is found without its incarnation key, the region writes under a
// new, never-used incarnation: node `<region>~<n>` (incarnation 0 keeps the plain region name).
import { InvalidInputError } from "@meridian/core";

export interface WriterIncarnationSource {
  /** A number never returned before for `namespace` (0 the first time), durable across restarts. */
  next(namespace: string): Promise<number>;
}

/** Anything with pg's `query` (a Pool or a client). */
export interface SqlQueryable {
  query<R extends Record<string, unknown>>(text: string, values?: unknown[]): Promise<{ rows: R[] }>;
}

/** Durable incarnations: one row per region namespace in PostgreSQL, bumped in one statement. */
export function pgWriterIncarnations(
  db: SqlQueryable,
  table = "meridian_writer_incarnations",
): WriterIncarnationSource {
  if (!/^[a-z_][a-z0-9_]*$/.test(table)) throw new InvalidInputError(`bad table name ${table}`);
  let ready: Promise<unknown> | undefined;
  return {
    async next(namespace) {
      ready ??= db
        .query(`CREATE TABLE IF NOT EXISTS ${table} (namespace text PRIMARY KEY, n bigint NOT NULL)`)
        .catch((err) => {
          ready = undefined;
          throw err;
        });
      await ready;
      const r = await db.query<{ n: string }>(
        `INSERT INTO ${table} AS t (namespace, n) VALUES ($1, 0)
         ON CONFLICT (namespace) DO UPDATE SET n = t.n + 1 RETURNING n`,
        [namespace],
      );
      return Number(r.rows[0]!.n);
    },
  };
}

/** The vector-clock / PN-counter node id of `region` under incarnation `n`. */
export function writerNode(region: string, n: number): string {
  return n === 0 ? region : `${region}~${n}`;
}
