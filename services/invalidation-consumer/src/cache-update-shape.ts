// Checks that a decoded Avro record is a CacheUpdate. The consumer decodes with the writer's schema only
// (cached by schema id): resolving into a reader schema made the registry client rebuild Avro types on
// every message, which cost more CPU than the merge itself.
import type { CacheUpdate } from "@meridian/bus";
import { isCrdtType, SerializationError } from "@meridian/core";

const KINDS = new Set(["UPDATE", "ROLLBACK", "INVALIDATE"]);

export function asCacheUpdate(value: unknown): CacheUpdate {
  const v = value as Record<string, unknown> | null;
  const bad = (field: string): never => {
    throw new SerializationError(`not a CacheUpdate: field ${field} missing or mistyped`, { field });
  };
  if (!v || typeof v !== "object") return bad("(record)");
  if (typeof v.key !== "string") bad("key");
  if (typeof v.kind !== "string" || !KINDS.has(v.kind)) bad("kind");
  if (!isCrdtType(v.crdtType)) bad("crdtType");
  if (typeof v.state !== "string") bad("state");
  if (typeof v.region !== "string") bad("region");
  if (!v.vectorClock || typeof v.vectorClock !== "object") bad("vectorClock");
  for (const f of ["hlcWallMs", "hlcLogical", "producedAtMs"]) if (typeof v[f] !== "number") bad(f);
  if (typeof v.hlcNode !== "string") bad("hlcNode");
  return v as unknown as CacheUpdate;
}
