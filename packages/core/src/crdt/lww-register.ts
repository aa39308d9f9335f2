import { compareHlc, type HlcTimestamp, validateHlc } from "../clocks/hlc.js";
import { InvalidInputError } from "../errors.js";
import { canonicalJson, isPlainRecord } from "./canonical-json.js";
import type { Crdt, CrdtJson } from "./types.js";

type Entry<T> = { readonly value: T; readonly ts: HlcTimestamp; readonly json: string };

/**
 * Last-writer-wins register. The greater HLC timestamp wins; the node/region id inside the timestamp
 * breaks ties between equal (wallMs, logical). Two different values under the identical timestamp
 * (a misuse) are ordered by their canonical JSON so merge stays deterministic.
 */
export class LWWRegister<T> implements Crdt<T | undefined> {
  readonly type = "lww" as const;

  private constructor(private readonly entry: Entry<T> | undefined) {}

  static empty<T>(): LWWRegister<T> {
    return new LWWRegister<T>(undefined);
  }

  /** Writes `value` at `ts`; a write older than the current one is a no-op, as a merge would make it. */
  set(value: T, ts: HlcTimestamp): LWWRegister<T> {
    const json = canonicalJson(value);
    return LWWRegister.winner<T>(this, new LWWRegister<T>({ value, ts: validateHlc(ts), json }));
  }

  value(): T | undefined {
    return this.entry?.value;
  }

  /** Timestamp of the winning write, or undefined when never written. */
  timestamp(): HlcTimestamp | undefined {
    return this.entry ? { ...this.entry.ts } : undefined;
  }

  merge(other: this): this {
    if (!(other instanceof LWWRegister))
      throw new InvalidInputError("cannot merge LWWRegister with another type");
    return LWWRegister.winner<T>(this, other) as this;
  }

  private static winner<T>(x: LWWRegister<T>, y: LWWRegister<T>): LWWRegister<T> {
    const a = x.entry;
    const b = y.entry;
    if (!b) return x;
    if (!a) return y;
    const order = compareHlc(a.ts, b.ts);
    if (order !== 0) return order > 0 ? x : y;
    return a.json >= b.json ? x : y;
  }

  equals(other: unknown): boolean {
    if (!(other instanceof LWWRegister)) return false;
    const a = this.entry;
    const b = (other as LWWRegister<unknown>).entry;
    if (!a || !b) return a === b;
    return compareHlc(a.ts, b.ts) === 0 && a.json === b.json;
  }

  toJSON(): CrdtJson {
    const e = this.entry;
    return { type: this.type, state: e ? { value: JSON.parse(e.json), ts: { ...e.ts } } : null };
  }

  static fromState<T = unknown>(state: unknown): LWWRegister<T> {
    if (state === null) return LWWRegister.empty<T>();
    if (!isPlainRecord(state) || !("value" in state) || !("ts" in state)) {
      throw new InvalidInputError("malformed LWWRegister state", { state });
    }
    return LWWRegister.empty<T>().set(state.value as T, validateHlc(state.ts));
  }
}
