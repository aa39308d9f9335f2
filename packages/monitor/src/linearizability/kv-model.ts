// Sequential specification of the key-value store, over the keys of one partition.
// State: canonical JSON per key (undefined = absent). step() returns the next state, or undefined when the
// operation's recorded output is impossible in that state.
import { canonicalJson } from "@meridian/core";
import type { Json, KvInput, KvOutput } from "./history.js";

export type KvState = readonly (string | undefined)[];

/** The state form of a value: core's canonical JSON (equal values, equal strings), undefined = absent. */
export function canonical(value: Json | undefined): string | undefined {
  return value === undefined ? undefined : canonicalJson(value);
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
    if (changes.length === 0) return s; // identity: lets the search treat it as state-preserving
    const next = s.slice();
    for (const [i, v] of changes) next[i] = v;
    return next;
  }

  /** Output undefined = unknown outcome (the operation may have happened; its effect is replayed). */
  step(s: KvState, input: KvInput, output: KvOutput | undefined): KvState | undefined {
    return this.compile(input, output)(s);
  }

  /**
   * The operation's transition with its keys resolved and values canonicalised once, so the search (which
   * tries each operation many times) compares strings only.
   */
  compile(input: KvInput, output: KvOutput | undefined): (s: KvState) => KvState | undefined {
    switch (input.type) {
      case "read": {
        if (!output) return (s) => s;
        if (output.type !== "read") return () => undefined;
        const i = this.at(input.key);
        const v = canonical(output.value);
        return (s) => (s[i] === v ? s : undefined);
      }
      case "write": {
        const change: [number, string | undefined][] = [[this.at(input.key), canonical(input.value)]];
        return (s) => this.with(s, change);
      }
      case "cas": {
        const i = this.at(input.key);
        const expected = canonical(input.expected);
        const change: [number, string | undefined][] = [[i, canonical(input.value)]];
        const wantOk = output ? (output.type === "cas" ? output.ok : undefined) : null;
        if (wantOk === undefined) return () => undefined;
        return (s) => {
          const ok = s[i] === expected;
          if (wantOk !== null && wantOk !== ok) return undefined;
          return ok ? this.with(s, change) : s;
        };
      }
      case "txn": {
        if (!output) {
          const w = input.writes ?? {};
          const change = Object.keys(w).map((k): [number, string | undefined] => [
            this.at(k),
            canonical(w[k]),
          ]);
          return (s) => this.with(s, change);
        }
        if (output.type !== "txn") return () => undefined;
        const reads = Object.entries(output.reads).map(([k, v]): [number, string | undefined] => [
          this.at(k),
          canonical(v),
        ]);
        const change = Object.entries(output.writes).map(([k, v]): [number, string | undefined] => [
          this.at(k),
          canonical(v),
        ]);
        return (s) => {
          for (const [i, v] of reads) if (s[i] !== v) return undefined;
          return this.with(s, change);
        };
      }
    }
  }
}
