// Compiles the two protocol tables into integer lookup arrays: states, events and actions become small
// integers, a (state, event) pair indexes straight into a row, and a row's actions are a run of opcodes.
// Every interpreter (the object controllers the model checker and the manager use, and the typed-array
// engine) runs these arrays, so the tables stay the single source of the protocol.
import type { CacheAction, CacheTable } from "./cache-table.js";
import type { DirAction, DirectoryTable, DirGuard } from "./directory-table.js";
import type { CacheState, DirState, MessageType, ProcessorEvent } from "./messages.js";

export const CACHE_STATES: readonly CacheState[] = [
  "I",
  "S",
  "E",
  "M",
  "IS_D",
  "IM_D",
  "SM_D",
  "MI_A",
  "EI_A",
  "SI_A",
  "II_A",
];
export const DIR_STATES: readonly DirState[] = ["I", "S", "EM", "S_U", "EM_U", "B_RS", "B_RM", "B_A"];
/** Processor events first, then every message type; a message's type code is its event code. */
export const EVENTS: readonly (ProcessorEvent | MessageType)[] = [
  "Load",
  "Store",
  "Evict",
  "GetS",
  "GetM",
  "PutS",
  "PutE",
  "PutM",
  "InvAck",
  "OwnerData",
  "Unblock",
  "DataS",
  "DataE",
  "DataM",
  "Inv",
  "RecallS",
  "RecallM",
  "PutAck",
];

export const EV_LOAD = 0;
export const EV_STORE = 1;
export const EV_EVICT = 2;
export const EV_PUTM = EVENTS.indexOf("PutM");

/** Cache opcodes; each is followed by one argument byte. */
export const C_STALL = 0;
export const C_READ_HIT = 1;
export const C_WRITE = 2;
export const C_FILL = 3;
export const C_DROP = 4;
/** Send a message to the directory; argument: its type code. */
export const C_SEND = 5;
/** Send OwnerData; argument: bit 0 dirty, bit 1 kept. */
export const C_OWNER_DATA = 6;

const GUARDS: readonly DirGuard[] = [
  "always",
  "noOtherSharers",
  "otherSharers",
  "lastSharer",
  "notLastSharer",
  "fromOwner",
  "notFromOwner",
  "notFromSharer",
  "lastAck",
  "moreAcks",
  "ownerKept",
  "ownerDropped",
];

/** Directory opcodes, in DirAction order. */
export const DIR_ACTIONS: readonly DirAction[] = [
  "stall",
  "setRequester",
  "send:DataS",
  "send:DataE",
  "send:DataM",
  "send:Inv->others",
  "send:RecallS",
  "send:RecallM",
  "send:PutAck",
  "addRequester",
  "removeSender",
  "clearSharers",
  "ownerIsRequester",
  "clearOwner",
  "writeHome",
  "absorbOwnerData",
  "countAck",
];
export const D_STALL = 0;
export const D_SET_REQUESTER = 1;
export const D_SEND_DATA_S = 2;
export const D_SEND_DATA_E = 3;
export const D_SEND_DATA_M = 4;
export const D_SEND_INV_OTHERS = 5;
export const D_SEND_RECALL_S = 6;
export const D_SEND_RECALL_M = 7;
export const D_SEND_PUT_ACK = 8;
export const D_ADD_REQUESTER = 9;
export const D_REMOVE_SENDER = 10;
export const D_CLEAR_SHARERS = 11;
export const D_OWNER_IS_REQUESTER = 12;
export const D_CLEAR_OWNER = 13;
export const D_WRITE_HOME = 14;
export const D_ABSORB_OWNER_DATA = 15;
export const D_COUNT_ACK = 16;

/** [directory opcode] -> the type code of the message it sends (send opcodes only). */
export const DIR_SEND_TYPE = new Uint8Array(DIR_ACTIONS.length);
DIR_SEND_TYPE[D_SEND_DATA_S] = EVENTS.indexOf("DataS");
DIR_SEND_TYPE[D_SEND_DATA_E] = EVENTS.indexOf("DataE");
DIR_SEND_TYPE[D_SEND_DATA_M] = EVENTS.indexOf("DataM");
DIR_SEND_TYPE[D_SEND_RECALL_S] = EVENTS.indexOf("RecallS");
DIR_SEND_TYPE[D_SEND_RECALL_M] = EVENTS.indexOf("RecallM");
DIR_SEND_TYPE[D_SEND_PUT_ACK] = EVENTS.indexOf("PutAck");
export const TYPE_INV = EVENTS.indexOf("Inv");

export interface CompiledProtocol {
  readonly events: number;
  /** [state * events + event] -> cache row, or -1 when the table has no row (a protocol error). */
  readonly cacheRow: Int16Array;
  readonly cacheNext: Uint8Array;
  /** First (opcode, argument) pair of each cache row in cacheOps; row r ends at cacheOpStart[r+1]. */
  readonly cacheOpStart: Uint16Array;
  readonly cacheOps: Uint8Array;
  /** 1 when the cache row stalls (the event waits). */
  readonly cacheStalls: Uint8Array;
  /** [state * events + event] -> first candidate in dirCandidates; ends at the next entry. */
  readonly dirCandStart: Uint16Array;
  readonly dirCandidates: Uint16Array;
  /** [state * events + event] -> the row when it is the only candidate and needs no guard, else -1. */
  readonly dirUnguarded: Int16Array;
  readonly dirGuard: Uint8Array;
  readonly dirNext: Uint8Array;
  readonly dirOpStart: Uint16Array;
  readonly dirOps: Uint8Array;
}

function code<T>(list: readonly T[], item: T, what: string): number {
  const i = list.indexOf(item);
  if (i < 0) throw new Error(`protocol table: unknown ${what} ${String(item)}`);
  return i;
}

function cacheOp(a: CacheAction): [number, number] {
  switch (a) {
    case "stall":
      return [C_STALL, 0];
    case "readHit":
      return [C_READ_HIT, 0];
    case "write":
      return [C_WRITE, 0];
    case "fill":
      return [C_FILL, 0];
    case "dropData":
      return [C_DROP, 0];
  }
  if (a.startsWith("send:OwnerData")) {
    return [C_OWNER_DATA, (a.includes("dirty") ? 1 : 0) | (a.includes(",kept") ? 2 : 0)];
  }
  return [C_SEND, code(EVENTS, a.slice("send:".length) as MessageType, "message")];
}

export function compileProtocol(cacheTable: CacheTable, dirTable: DirectoryTable): CompiledProtocol {
  const E = EVENTS.length;
  const cacheRow = new Int16Array(CACHE_STATES.length * E).fill(-1);
  const cacheNext = new Uint8Array(cacheTable.length);
  const cacheStalls = new Uint8Array(cacheTable.length);
  const cacheOpStart = new Uint16Array(cacheTable.length + 1);
  const ops: number[] = [];
  cacheTable.forEach((r, i) => {
    const at = code(CACHE_STATES, r.state, "cache state") * E + code(EVENTS, r.event, "event");
    if (cacheRow[at] !== -1) throw new Error(`cache table has two rows for ${r.state}|${r.event}`);
    cacheRow[at] = i;
    cacheNext[i] = code(CACHE_STATES, r.next, "cache state");
    cacheStalls[i] = r.actions[0] === "stall" ? 1 : 0;
    cacheOpStart[i] = ops.length / 2;
    for (const a of r.actions) ops.push(...cacheOp(a));
  });
  cacheOpStart[cacheTable.length] = ops.length / 2;

  const buckets: number[][] = Array.from({ length: DIR_STATES.length * E }, () => []);
  const dirGuard = new Uint8Array(dirTable.length);
  const dirNext = new Uint8Array(dirTable.length);
  const dirOpStart = new Uint16Array(dirTable.length + 1);
  const dops: number[] = [];
  dirTable.forEach((r, i) => {
    buckets[code(DIR_STATES, r.state, "directory state") * E + code(EVENTS, r.event, "event")]!.push(i);
    dirGuard[i] = code(GUARDS, r.guard, "guard");
    dirNext[i] = code(DIR_STATES, r.next, "directory state");
    dirOpStart[i] = dops.length;
    for (const a of r.actions) dops.push(code(DIR_ACTIONS, a, "directory action"));
  });
  dirOpStart[dirTable.length] = dops.length;
  const dirUnguarded = Int16Array.from(buckets, (b) =>
    b.length === 1 && dirGuard[b[0]!] === 0 ? b[0]! : -1,
  );
  const dirCandStart = new Uint16Array(buckets.length + 1);
  const cands: number[] = [];
  buckets.forEach((b, i) => {
    dirCandStart[i] = cands.length;
    cands.push(...b);
  });
  dirCandStart[buckets.length] = cands.length;

  return {
    events: E,
    cacheRow,
    cacheNext,
    cacheOpStart,
    cacheOps: Uint8Array.from(ops),
    cacheStalls,
    dirCandStart,
    dirCandidates: Uint16Array.from(cands),
    dirUnguarded,
    dirGuard,
    dirNext,
    dirOpStart,
    dirOps: Uint8Array.from(dops),
  };
}

/**
 * Does guard `g` hold? The caller measures the line: its sharer count, whether the sender is a sharer
 * or the owner, the InvAcks still expected, and whether an OwnerData says the old owner kept a copy. One function for every interpreter.
 */
export function guardHolds(
  g: number,
  sharers: number,
  fromIsSharer: boolean,
  fromIsOwner: boolean,
  acks: number,
  ownerKept: boolean,
): boolean {
  switch (g) {
    case 0: // always
      return true;
    case 1: // noOtherSharers
      return sharers === 0 || (sharers === 1 && fromIsSharer);
    case 2: // otherSharers
      return sharers > (fromIsSharer ? 1 : 0);
    case 3: // lastSharer
      return fromIsSharer && sharers === 1;
    case 4: // notLastSharer
      return fromIsSharer && sharers > 1;
    case 5: // fromOwner
      return fromIsOwner;
    case 6: // notFromOwner
      return !fromIsOwner;
    case 7: // notFromSharer
      return !fromIsSharer;
    case 8: // lastAck
      return acks === 1;
    case 9: // moreAcks
      return acks > 1;
    case 10: // ownerKept
      return ownerKept;
    default: // ownerDropped
      return !ownerKept;
  }
}

/**
 * The one directory row whose guard holds, -1 if none; -2 when two rows match (an ambiguous table).
 */
export function matchDirRow(
  p: CompiledProtocol,
  state: number,
  event: number,
  sharers: number,
  fromIsSharer: boolean,
  fromIsOwner: boolean,
  acks: number,
  ownerKept: boolean,
): number {
  const at = state * p.events + event;
  let hit = -1;
  for (let i = p.dirCandStart[at]!; i < p.dirCandStart[at + 1]!; i++) {
    const r = p.dirCandidates[i]!;
    if (!guardHolds(p.dirGuard[r]!, sharers, fromIsSharer, fromIsOwner, acks, ownerKept)) continue;
    if (hit >= 0) return -2;
    hit = r;
  }
  return hit;
}
