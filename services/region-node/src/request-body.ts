// Request bodies of the region node, checked before anything touches Redis or Kafka: every malformed
// body becomes an InvalidInputError (HTTP 400) naming the offending field.
import { InvalidInputError } from "@meridian/core";
import { crdtTypeForKey } from "./keyspace.js";

export function asObject(body: unknown): Record<string, unknown> {
  if (typeof body !== "object" || body === null || Array.isArray(body)) {
    throw new InvalidInputError("request body must be a JSON object", { field: "body" });
  }
  return body as Record<string, unknown>;
}

/** Turns an `important` request body into the EventualConsistencyCache write argument for the key's CRDT. */
export function importantWriteArg(key: string, body: unknown): unknown {
  const b = asObject(body);
  const type = crdtTypeForKey(key);
  if (type === "pncounter") {
    if (b.op !== "increment" && b.op !== "decrement") {
      throw new InvalidInputError(`${key} is a counter: body must be {"op":"increment"|"decrement","by":n}`, {
        field: "op",
      });
    }
    const by = b.by ?? 1;
    if (typeof by !== "number" || !Number.isSafeInteger(by) || by < 1) {
      throw new InvalidInputError("by must be a positive integer", { field: "by" });
    }
    return { op: b.op, by };
  }
  if (type === "orset") {
    if (b.op !== "add" && b.op !== "remove") {
      throw new InvalidInputError(`${key} is a set: body must be {"op":"add"|"remove","element":x}`, {
        field: "op",
      });
    }
    if (!("element" in b) || b.element === undefined) {
      throw new InvalidInputError("element is required", { field: "element" });
    }
    return { op: b.op, element: b.element };
  }
  if (!("value" in b) || b.value === undefined) {
    throw new InvalidInputError('body must be {"value": <json>}', { field: "value" });
  }
  return b.value;
}

export function parseMinVersion(v: unknown): Record<string, number> | undefined {
  if (v === undefined) return undefined;
  if (typeof v !== "object" || v === null) throw new InvalidInputError("minVersion must be an object");
  for (const [k, n] of Object.entries(v)) {
    if (typeof n !== "number" || !Number.isSafeInteger(n) || n < 0) {
      throw new InvalidInputError(`minVersion.${k} must be a non-negative integer`);
    }
  }
  return v as Record<string, number>;
}

/** The value of a critical write body `{"value": <json>}`. */
export function criticalWriteValue(body: unknown): unknown {
  const b = asObject(body);
  if (!("value" in b) || b.value === undefined) {
    throw new InvalidInputError('body must be {"value": <json>}', { field: "value" });
  }
  return b.value;
}
