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

/**
 * Durable incarnations: one row per region namespace in PostgreSQL, bumped in one statement. Concurrent
 * draws for one namespace share one number: they all found the incarnation missing and none of them has
 * installed one yet, so the number is still unused — and a burst of first writes costs one statement,
 * not one per write.
 */
export function pgWriterIncarnations(
  db: SqlQueryable,
  table = "meridian_writer_incarnations",
): WriterIncarnationSource {
  const draw = pgCounter(db, table, "n", 0);
  const inFlight = new Map<string, Promise<number>>();
  return {
    next(namespace) {
      let p = inFlight.get(namespace);
      if (!p) {
        p = draw(namespace).finally(() => inFlight.delete(namespace));
        inFlight.set(namespace, p);
      }
      return p;
    },
  };
}

/** The vector-clock / PN-counter node id of `region` under incarnation `n`. */
export function writerNode(region: string, n: number): string {
  return n === 0 ? region : `${region}~${n}`;
}
