// Checks of what another region sends: a peer holds the cluster token, but its requests are still input —
// a bad shape is an InvalidInputError, never a half-applied move or a NaN version.
import { InvalidInputError, type ReadBound } from "@meridian/core";
import type { MovedKey } from "./home-store.js";

/** A critical read's bounds as they cross the wire: core's ReadBound with an integer version. */
export type ReadOptions = ReadBound<number>;

function nonNegativeInt(v: unknown, field: string): number {
  if (typeof v !== "number" || !Number.isSafeInteger(v) || v < 0) {
    throw new InvalidInputError(`${field} must be a non-negative integer`, { field });
  }
  return v;
}

export function parseReadOptions(v: unknown): ReadOptions {
  if (v === undefined || v === null) return {};
  if (typeof v !== "object") throw new InvalidInputError("opts must be an object", { field: "opts" });
  const o = v as Record<string, unknown>;
  return {
    ...(o.maxAgeMs !== undefined ? { maxAgeMs: nonNegativeInt(o.maxAgeMs, "maxAgeMs") } : {}),
    ...(o.minVersion !== undefined ? { minVersion: nonNegativeInt(o.minVersion, "minVersion") } : {}),
  };
}

export function parseMovedKey(v: unknown): MovedKey {
  const o = (v ?? {}) as Record<string, unknown>;
  if (typeof o.key !== "string") throw new InvalidInputError("key must be a string", { field: "key" });
  const epoch = nonNegativeInt(o.epoch, "epoch");
  if (epoch === 0) throw new InvalidInputError("a moved key's epoch is at least 1", { field: "epoch" });
  return { key: o.key, value: o.value, version: nonNegativeInt(o.version, "version"), epoch };
}
