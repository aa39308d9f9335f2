// Vocabulary of the directory-based MESI protocol: line states, processor events and typed messages.
// Shared by the runtime manager and the model checker so both speak exactly the same protocol.

/** Stable MESI states plus the transient states a cache passes through while a request is in flight. */
export type CacheState =
  | "I"
  | "S"
  | "E"
  | "M"
  | "IS_D" // asked for a shared copy (GetS), waiting for data
  | "IM_D" // asked for ownership from I (GetM), waiting for data
  | "SM_D" // upgrading S -> M (GetM), still holds a readable shared copy
  | "MI_A" // evicting a dirty line (PutM sent), waiting for PutAck
  | "EI_A" // evicting a clean exclusive line (PutE sent), waiting for PutAck
  | "SI_A" // evicting a shared line (PutS sent), waiting for PutAck
  | "II_A"; // gave the line away (Inv / Recall) while its Put was in flight, waiting for PutAck

/** Directory states per line. `*_U` and `B_*` are busy: new requests for the line wait in the network. */
export type DirState =
  | "I" // no cached copy; the home (L2) value is current
  | "S" // one or more sharers, home value current
  | "EM" // one owner in E or M (the home value may be stale)
  | "S_U" // data sent to a new sharer, waiting for its Unblock
  | "EM_U" // data sent to a new owner, waiting for its Unblock
  | "B_RS" // recalled the owner for a GetS, waiting for OwnerData
  | "B_RM" // recalled the owner for a GetM, waiting for OwnerData
  | "B_A"; // invalidated sharers for a GetM, counting InvAcks

export type ProcessorEvent = "Load" | "Store" | "Evict";

/** Messages a cache sends to the directory. */
export type ToDirType = "GetS" | "GetM" | "PutS" | "PutE" | "PutM" | "InvAck" | "OwnerData" | "Unblock";
/** Messages the directory sends to a cache. */
export type ToCacheType = "DataS" | "DataE" | "DataM" | "Inv" | "RecallS" | "RecallM" | "PutAck";
export type MessageType = ToDirType | ToCacheType;

export const DIRECTORY = -1;

/** One coherence message. `from`/`to` are cache ids (0..n-1) or DIRECTORY. */
export interface CoherenceMessage<V = unknown> {
  type: MessageType;
  line: string;
  from: number;
  to: number;
  /** Data carried by DataS/E/M, PutM and OwnerData. */
  value?: V;
  /** OwnerData: the owner's copy was modified (the home must take the value). */
  dirty?: boolean;
  /** OwnerData: the owner kept a shared copy (M/E -> S); false when it dropped the line. */
  kept?: boolean;
}

export const STABLE_CACHE_STATES: readonly CacheState[] = ["I", "S", "E", "M"];
/** States in which a cache may serve a read from its own copy. */
export const READABLE_STATES: ReadonlySet<CacheState> = new Set<CacheState>(["S", "E", "M", "SM_D"]);
/** States that grant write permission (E upgrades to M silently). */
export const WRITABLE_STATES: ReadonlySet<CacheState> = new Set<CacheState>(["E", "M"]);
