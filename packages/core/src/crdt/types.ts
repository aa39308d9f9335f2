export type CrdtType = "lww" | "pncounter" | "orset" | "mvregister";

/** Serialized form of any CRDT: its type tag and a JSON-safe state. */
export type CrdtJson = { type: CrdtType; state: unknown };

/** Common shape of Meridian's state-based CRDTs. All are immutable: operations return new instances. */
export interface Crdt<V> {
  readonly type: CrdtType;
  /** Join of both states: commutative, associative and idempotent. */
  merge(other: this): this;
  value(): V;
  toJSON(): CrdtJson;
  /** Same state (not only same value). */
  equals(other: unknown): boolean;
}
