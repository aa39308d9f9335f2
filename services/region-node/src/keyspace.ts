// Naming rules shared by every region: which keys are valid, and which CRDT an `important` key uses.
// The CRDT type must follow from the key alone so that all five regions merge a key the same way.
import { type CrdtType, type DataClass, InvalidInputError } from "@meridian/core";
import { crdtPolicyByPrefix } from "@meridian/eventual";

export const DATA_CLASSES: readonly DataClass[] = ["critical", "important", "cacheable"];

const KEY_PATTERN = /^[A-Za-z0-9][A-Za-z0-9:._\-/@]{0,255}$/;

export function parseDataClass(value: string): DataClass {
  if (!(DATA_CLASSES as readonly string[]).includes(value)) {
    throw new InvalidInputError(`unknown data class "${value}" (expected critical | important | cacheable)`, {
      field: "class",
    });
  }
  return value as DataClass;
}

/** 1–256 characters of letters, digits and `:._-/@`, starting with a letter or digit. */
export function validateKey(key: string): string {
  if (!KEY_PATTERN.test(key)) {
    throw new InvalidInputError("key must be 1-256 chars of [A-Za-z0-9:._-/@] starting alphanumeric", {
      field: "key",
      key: key.slice(0, 300),
    });
  }
  return key;
}

/**
 * `pos:` / `counter:` → PN-counter (position quantities), `set:` / `watch:` → OR-set (watch lists),
 * `mv:` → MV-register (siblings kept), everything else (prices `md:`, …) → LWW-register.
 */
export const crdtTypeForKey: (key: string) => CrdtType = crdtPolicyByPrefix({
  "pos:": "pncounter",
  "counter:": "pncounter",
  "set:": "orset",
  "watch:": "orset",
  "mv:": "mvregister",
});

/** Key under which a market tick for `symbol` is cached (an LWW register). */
export function marketDataKey(symbol: string): string {
  return `md:${symbol}`;
}
