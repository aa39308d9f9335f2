import type { CrdtType } from "@meridian/core";

/**
 * Key -> CRDT type by longest matching prefix, e.g.
 * `crdtPolicyByPrefix({ "price:": "lww", "position:": "pncounter", "watch:": "orset" })`.
 */
export function crdtPolicyByPrefix(
  rules: Record<string, CrdtType>,
  fallback: CrdtType = "lww",
): (key: string) => CrdtType {
  const prefixes = Object.keys(rules).sort((a, b) => b.length - a.length);
  return (key) => {
    for (const p of prefixes) if (key.startsWith(p)) return rules[p] as CrdtType;
    return fallback;
  };
}
