// Idempotent DDL that several processes may run at once (region nodes starting together): PostgreSQL's
// `CREATE ... IF NOT EXISTS` is not atomic against a concurrent create of the same name, and the loser
// fails instead of finding the object there.
import type { SqlQueryable } from "./pg-counter.js";

/**
 * The errors of a `CREATE ... IF NOT EXISTS` that lost a race with another session's create of the same
 * name: unique_violation (on a catalog index), duplicate_table, duplicate_object ("type … already exists",
 * a table's row type) and duplicate_schema.
 */
function isConcurrentCreate(err: unknown): boolean {
  const code = (err as { code?: string } | null)?.code;
  return code === "23505" || code === "42P07" || code === "42710" || code === "42P06";
}

/** Runs `CREATE ... IF NOT EXISTS ...`; losing a race with a concurrent create of the same object is success. */
export async function createIfAbsent(db: SqlQueryable, ddl: string): Promise<void> {
  try {
    await db.query(ddl);
  } catch (err) {
    if (!isConcurrentCreate(err)) throw err;
  }
}
