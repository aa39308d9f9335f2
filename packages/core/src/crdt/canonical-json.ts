import { InvalidInputError } from "../errors.js";

/**
 * JSON with object keys sorted, so equal values always give equal strings (plain JSON.stringify
 * depends on key insertion order). Throws InvalidInputError for values JSON cannot carry.
 */
export function canonicalJson(value: unknown): string {
  const text = JSON.stringify(sortKeys(value, new Set()));
  if (text === undefined) throw new InvalidInputError("value is not JSON-serializable", { value });
  return text;
}

function sortKeys(value: unknown, seen: Set<object>): unknown {
  if (value === null || typeof value !== "object") {
    if (typeof value === "bigint" || typeof value === "function" || typeof value === "symbol") {
      throw new InvalidInputError(`a ${typeof value} is not JSON-serializable`);
    }
    if (typeof value === "number" && !Number.isFinite(value)) {
      throw new InvalidInputError("non-finite numbers are not JSON-serializable", { value });
    }
    return value;
  }
  if (seen.has(value)) throw new InvalidInputError("cyclic value is not JSON-serializable");
  seen.add(value);
  try {
    const withToJson = value as { toJSON?: () => unknown };
    if (typeof withToJson.toJSON === "function") return sortKeys(withToJson.toJSON(), seen);
    if (Array.isArray(value)) return value.map((item) => (item === undefined ? null : sortKeys(item, seen)));
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(value).sort()) {
      const item = (value as Record<string, unknown>)[key];
      if (item !== undefined) out[key] = sortKeys(item, seen);
    }
    return out;
  } finally {
    seen.delete(value);
  }
}

export function isPlainRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}
