// P-compositionality: a history is linearizable iff each independent part is. Operations on different keys
// are independent; a transaction ties its keys together, so partitions are the connected components of
// "keys touched by one operation" (union-find). A transaction is checked atomically against a model over
// all keys of its component — sound and complete, at the price of larger partitions.
import { keysOf, type Operation } from "./history.js";

export interface Partition {
  keys: string[];
  ops: Operation[];
}

export function partitionByKeys(history: readonly Operation[]): Partition[] {
  const parent = new Map<string, string>();
  const find = (k: string): string => {
    let r = k;
    while (parent.get(r) !== r) r = parent.get(r)!;
    let c = k;
    while (c !== r) {
      const n = parent.get(c)!;
      parent.set(c, r);
      c = n;
    }
    return r;
  };
  for (const op of history) {
    const keys = keysOf(op.input);
    for (const k of keys) if (!parent.has(k)) parent.set(k, k);
    for (const k of keys.slice(1)) {
      const a = find(keys[0]!);
      const b = find(k);
      if (a !== b) parent.set(b, a);
    }
  }
  const groups = new Map<string, Partition>();
  for (const k of [...parent.keys()].sort()) {
    const root = find(k);
    const g = groups.get(root) ?? { keys: [], ops: [] };
    g.keys.push(k);
    groups.set(root, g);
  }
  for (const op of history) groups.get(find(keysOf(op.input)[0]!))!.ops.push(op);
  return [...groups.values()];
}
