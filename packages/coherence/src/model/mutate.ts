// Helpers that derive a "mutant" protocol table with one row changed, to show the model checker
// notices a broken transition.
import type { CacheRow, CacheTable } from "../protocol/cache-table.js";
import type { DirectoryTable, DirRow } from "../protocol/directory-table.js";

export function replaceCacheRow(
  table: CacheTable,
  match: Pick<CacheRow, "state" | "event">,
  patch: Partial<CacheRow>,
): CacheTable {
  let hits = 0;
  const out = table.map((r) => {
    if (r.state !== match.state || r.event !== match.event) return r;
    hits++;
    return { ...r, ...patch };
  });
  if (hits !== 1) throw new Error(`expected one cache row ${match.state}/${match.event}, found ${hits}`);
  return out;
}

export function replaceDirRow(
  table: DirectoryTable,
  match: Pick<DirRow, "state" | "event" | "guard">,
  patch: Partial<DirRow>,
): DirectoryTable {
  let hits = 0;
  const out = table.map((r) => {
    if (r.state !== match.state || r.event !== match.event || r.guard !== match.guard) return r;
    hits++;
    return { ...r, ...patch };
  });
  if (hits !== 1)
    throw new Error(`expected one directory row ${match.state}/${match.event}/${match.guard}, found ${hits}`);
  return out;
}
