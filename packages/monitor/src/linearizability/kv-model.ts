// Sequential specification of the key-value store, over the keys of one partition.
// State: canonical JSON per key (undefined = absent). step() returns the next state, or undefined when the
// operation's recorded output is impossible in that state.
import type { Json, KvInput, KvOutput } from "./history.js";

export type KvState = readonly (string | undefined)[];

/** JSON with object keys sorted, so equal values compare equal as strings. */
export function canonical(value: Json | undefined): string | undefined {
  if (value === undefined) return undefined;
  return JSON.stringify(sortKeys(value));
}

function sortKeys(v: Json): Json {
  if (Array.isArray(v)) return v.map(sortKeys);
  if (v !== null && typeof v === "object") {
    return Object.fromEntries(
      Object.keys(v)
        .sort()
        .map((k) => [k, sortKeys(v[k]!)]),
    );
  }
  return v;
}

export class KvModel {
  private readonly index = new Map<string, number>();

  constructor(readonly keys: readonly string[]) {
    for (const [i, k] of keys.entries()) this.index.set(k, i);
  }

  init(initial: Record<string, Json> = {}): KvState {
    return this.keys.map((k) => canonical(initial[k]));
  }

  stateKey(s: KvState): string {
    return s.map((v) => (v === undefined ? "\u0002" : v)).join("\u0001");
  }

  describe(s: KvState): Record<string, Json | undefined> {
    return Object.fromEntries(
      this.keys.map((k, i) => [k, s[i] === undefined ? undefined : JSON.parse(s[i]!)]),
    );
  }

  private at(key: string): number {
    const i = this.index.get(key);
    if (i === undefined) throw new Error(`key ${key} is not in this partition`);
    return i;
  }

  private with(s: KvState, changes: [number, string | undefined][]): KvState {
    const next = s.slice();
    for (const [i, v] of changes) next[i] = v;
    return next;
  }

  /** Output undefined = unknown outcome (the operation may have happened; its effect is replayed). */
  step(s: KvState, input: KvInput, output: KvOutput | undefined): KvState | undefined {
    switch (input.type) {
      case "read": {
        if (!output) return s;
        return output.type === "read" && s[this.at(input.key)] === canonical(output.value) ? s : undefined;
      }
      case "write":
        return this.with(s, [[this.at(input.key), canonical(input.value)]]);
      case "cas": {
        const i = this.at(input.key);
        const ok = s[i] === canonical(input.expected);
        if (output && (output.type !== "cas" || output.ok !== ok)) return undefined;
        return ok ? this.with(s, [[i, canonical(input.value)]]) : s;
      }
      case "txn": {
        if (!output) {
          const w = input.writes ?? {};
          return this.with(
            s,
            Object.keys(w).map((k) => [this.at(k), canonical(w[k])]),
          );
        }
        if (output.type !== "txn") return undefined;
        for (const [k, v] of Object.entries(output.reads)) {
          if (s[this.at(k)] !== canonical(v)) return undefined;
        }
        return this.with(
          s,
          Object.entries(output.writes).map(([k, v]) => [this.at(k), canonical(v)]),
        );
      }
    }
  }
}
