import { InvalidInputError } from "../errors.js";
import { isPlainRecord } from "./canonical-json.js";
import { LWWRegister } from "./lww-register.js";
import { MVRegister } from "./mv-register.js";
import { ORSet } from "./or-set.js";
import { PNCounter } from "./pn-counter.js";
import type { CrdtType } from "./types.js";

export type AnyCrdt = LWWRegister<unknown> | PNCounter | ORSet<unknown> | MVRegister<unknown>;

export const CRDT_TYPES: readonly CrdtType[] = ["lww", "pncounter", "orset", "mvregister"];

export function isCrdtType(value: unknown): value is CrdtType {
  return typeof value === "string" && (CRDT_TYPES as readonly string[]).includes(value);
}

export function emptyCrdt(type: CrdtType): AnyCrdt {
  switch (type) {
    case "lww":
      return LWWRegister.empty<unknown>();
    case "pncounter":
      return PNCounter.empty();
    case "orset":
      return ORSet.empty<unknown>();
    case "mvregister":
      return MVRegister.empty<unknown>();
    default:
      throw new InvalidInputError("unknown CRDT type", { type });
  }
}

/** Rebuilds a CRDT from its toJSON() form (object or JSON string); InvalidInputError if unknown or malformed. */
export function crdtFromJSON(json: unknown): AnyCrdt {
  let parsed = json;
  if (typeof json === "string") {
    try {
      parsed = JSON.parse(json);
    } catch {
      throw new InvalidInputError("CRDT JSON is not valid JSON", { json });
    }
  }
  if (!isPlainRecord(parsed) || !("state" in parsed)) {
    throw new InvalidInputError("CRDT JSON must be { type, state }", { json: parsed });
  }
  const { type, state } = parsed;
  switch (type) {
    case "lww":
      return LWWRegister.fromState(state);
    case "pncounter":
      return PNCounter.fromState(state);
    case "orset":
      return ORSet.fromState(state);
    case "mvregister":
      return MVRegister.fromState(state);
    default:
      throw new InvalidInputError("unknown CRDT type", { type });
  }
}

/** Merges two CRDTs of the same runtime type (e.g. decoded from the wire); InvalidInputError otherwise. */
export function mergeCrdts(a: AnyCrdt, b: AnyCrdt): AnyCrdt {
  if (a.type !== b.type)
    throw new InvalidInputError("cannot merge CRDTs of different types", { a: a.type, b: b.type });
  return (a as PNCounter).merge(b as PNCounter);
}
