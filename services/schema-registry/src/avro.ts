// Avro parsing and compatibility rules, decided by avsc's schema resolution (pure, no I/O).
import avsc from "avsc";
import { invalidSchema } from "./errors.js";

export const COMPATIBILITY_LEVELS = [
  "NONE",
  "BACKWARD",
  "BACKWARD_TRANSITIVE",
  "FORWARD",
  "FORWARD_TRANSITIVE",
  "FULL",
  "FULL_TRANSITIVE",
] as const;
export type CompatibilityLevel = (typeof COMPATIBILITY_LEVELS)[number];

export function isCompatibilityLevel(value: unknown): value is CompatibilityLevel {
  return typeof value === "string" && (COMPATIBILITY_LEVELS as readonly string[]).includes(value);
}

/** Parses an Avro schema string; throws a 422 RegistryError when it is not valid JSON or not valid Avro. */
export function parseAvro(schema: string): avsc.Type {
  let json: unknown;
  try {
    json = JSON.parse(schema);
  } catch (err) {
    throw invalidSchema(`not JSON: ${(err as Error).message}`);
  }
  try {
    return avsc.Type.forSchema(json as avsc.Schema);
  } catch (err) {
    throw invalidSchema((err as Error).message);
  }
}

/**
 * The identity of a schema: its JSON re-serialized without whitespace. Two registrations of the same
 * schema text (modulo formatting) get the same id; unlike Avro's Parsing Canonical Form it keeps defaults
 * and docs, which matter for resolution.
 */
export function schemaIdentity(schema: string): string {
  return JSON.stringify(JSON.parse(schema));
}

/** Can data written with `writer` be read with `reader`? Returns null if yes, else the reason. */
export function resolutionError(reader: avsc.Type, writer: avsc.Type): string | null {
  try {
    reader.createResolver(writer);
    return null;
  } catch (err) {
    return (err as Error).message;
  }
}

/**
 * Checks `candidate` against the subject's earlier schemas (oldest first) under `level`.
 * Non-transitive levels compare with the latest only, as Confluent's do. Returns the reasons it fails.
 */
export function compatibilityErrors(
  level: CompatibilityLevel,
  candidate: avsc.Type,
  earlier: readonly avsc.Type[],
): string[] {
  if (level === "NONE" || earlier.length === 0) return [];
  const against = level.endsWith("_TRANSITIVE") ? earlier : earlier.slice(-1);
  const backward = level.startsWith("BACKWARD") || level.startsWith("FULL");
  const forward = level.startsWith("FORWARD") || level.startsWith("FULL");
  const errors: string[] = [];
  for (const old of against) {
    if (backward) {
      const e = resolutionError(candidate, old);
      if (e) errors.push(`new schema cannot read data written by an earlier one (BACKWARD): ${e}`);
    }
    if (forward) {
      const e = resolutionError(old, candidate);
      if (e) errors.push(`an earlier schema cannot read data written by the new one (FORWARD): ${e}`);
    }
  }
  return errors;
}
