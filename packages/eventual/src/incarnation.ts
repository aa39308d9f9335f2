// Writer incarnations: the vector-clock node (and PN-counter node) a region's writes are counted under.
// Counters live in the region's Redis; if it loses its data they would restart at 1 and reuse numbers the
// other regions already saw (a new write would look dominated and be dropped, a PN increment absorbed by
// max). So each time a region's Redis is found without its incarnation key, the region writes under a
// new, never-used incarnation: node `<region>~<n>` (incarnation 0 keeps the plain region name).
import { pgCounter, type SqlQueryable } from "@meridian/store";

export interface WriterIncarnationSource {
  /** A number never returned before for `namespace` (0 the first time), durable across restarts. */
  next(namespace: string): Promise<number>;
}

export type { SqlQueryable };

/** Durable incarnations: one row per region namespace in PostgreSQL, bumped in one statement. */
export function pgWriterIncarnations(
  db: SqlQueryable,
  table = "meridian_writer_incarnations",
): WriterIncarnationSource {
  return { next: pgCounter(db, table, "n", 0) };
}

/** The vector-clock / PN-counter node id of `region` under incarnation `n`. */
export function writerNode(region: string, n: number): string {
  return n === 0 ? region : `${region}~${n}`;
}
