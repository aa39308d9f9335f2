// Interprets the two compiled protocol tables on object lines. One step = find the row for
// (state, event[, guard]) and run its opcodes against a line. The manager and the model checker use these.
import type { CacheRow, CacheTable } from "./cache-table.js";
import {
  C_DROP,
  C_FILL,
  C_OWNER_DATA,
  C_READ_HIT,
  C_SEND,
  C_WRITE,
  CACHE_STATES,
  type CompiledProtocol,
  compileProtocol,
  D_ABSORB_OWNER_DATA,
  D_ADD_REQUESTER,
  D_CLEAR_OWNER,
  D_CLEAR_SHARERS,
  D_COUNT_ACK,
  D_OWNER_IS_REQUESTER,
  D_REMOVE_SENDER,
  D_SEND_DATA_E,
  D_SEND_DATA_M,
  D_SEND_DATA_S,
  D_SEND_INV_OTHERS,
  D_SEND_PUT_ACK,
  D_SEND_RECALL_M,
  D_SEND_RECALL_S,
  D_SET_REQUESTER,
  D_STALL,
  D_WRITE_HOME,
  DIR_SEND_TYPE,
  DIR_STATES,
  EV_PUTM,
  EVENTS,
  matchDirRow,
} from "./compiled.js";
import type { DirectoryTable } from "./directory-table.js";
import {
  type CacheState,
  type CoherenceMessage,
  DIRECTORY,
  type DirState,
  type ProcessorEvent,
  type ToCacheType,
  type ToDirType,
} from "./messages.js";

/** The protocol reached a (state, event) pair the table has no row for: a protocol bug. */
export class ProtocolError extends Error {
  constructor(
    message: string,
    readonly where: "cache" | "directory",
    readonly state: string,
    readonly event: string,
  ) {
    super(message);
    this.name = "ProtocolError";
  }
}

export interface CacheLine<V> {
  state: CacheState;
  value: V | undefined;
}

export interface CacheEffects<V> {
  send(msg: CoherenceMessage<V>): void;
  /** A load completed with this value. */
  readHit(value: V | undefined): void;
  /** A store is performed now; returns the value to write. */
  write(): V;
}

export interface DirLine<V> {
  state: DirState;
  owner: number;
  sharers: Set<number>;
  acks: number;
  requester: number;
  home: V | undefined;
}

export interface DirEffects<V> {
  send(msg: CoherenceMessage<V>): void;
}

export type StepResult = "done" | "stalled";

const CACHE_CODE = new Map(CACHE_STATES.map((s, i) => [s, i]));
const DIR_CODE = new Map(DIR_STATES.map((s, i) => [s, i]));
const EVENT_CODE = new Map(EVENTS.map((e, i) => [e, i]));

/** Interprets the compiled cache table on one object line (the model checker's and the manager's form). */
export class CacheController {
  readonly compiled: CompiledProtocol;
  constructor(
    readonly table: CacheTable,
    compiled?: CompiledProtocol,
  ) {
    this.compiled = compiled ?? compileProtocol(table, []);
  }

  private rowId(state: CacheState, event: string): number {
    const ev = EVENT_CODE.get(event as ProcessorEvent);
    if (ev === undefined) return -1;
    return this.compiled.cacheRow[CACHE_CODE.get(state)! * this.compiled.events + ev]!;
  }

  row(state: CacheState, event: string): CacheRow | undefined {
    const r = this.rowId(state, event);
    return r < 0 ? undefined : this.table[r];
  }

  /** Apply a processor event or an incoming message (msg.type is the event) to one cache line. */
  step<V>(
    node: number,
    lineId: string,
    line: CacheLine<V>,
    event: ProcessorEvent | CoherenceMessage<V>,
    fx: CacheEffects<V>,
  ): StepResult {
    const name = typeof event === "string" ? event : event.type;
    const r = this.rowId(line.state, name);
    if (r < 0)
      throw new ProtocolError(
        `cache ${node}: no transition for ${line.state} on ${name}`,
        "cache",
        line.state,
        name,
      );
    const p = this.compiled;
    if (p.cacheStalls[r]) return "stalled";
    const msg = typeof event === "string" ? undefined : event;
    for (let i = p.cacheOpStart[r]!; i < p.cacheOpStart[r + 1]!; i++) {
      const arg = p.cacheOps[2 * i + 1]!;
      switch (p.cacheOps[2 * i]) {
        case C_READ_HIT:
          fx.readHit(line.value);
          break;
        case C_WRITE:
          line.value = fx.write();
          break;
        case C_FILL:
          line.value = msg?.value;
          break;
        case C_DROP:
          line.value = undefined;
          break;
        case C_OWNER_DATA:
          fx.send({
            type: "OwnerData",
            line: lineId,
            from: node,
            to: DIRECTORY,
            value: line.value,
            dirty: (arg & 1) !== 0,
            kept: (arg & 2) !== 0,
          });
          break;
        case C_SEND: {
          const type = EVENTS[arg] as ToDirType;
          // Only PutM carries data among the plain sends.
          if (arg === EV_PUTM) fx.send({ type, line: lineId, from: node, to: DIRECTORY, value: line.value });
          else fx.send({ type, line: lineId, from: node, to: DIRECTORY });
          break;
        }
      }
    }
    line.state = CACHE_STATES[p.cacheNext[r]!]!;
    return "done";
  }
}

/** Interprets the compiled directory table on one object line. */
export class DirectoryController {
  readonly compiled: CompiledProtocol;
  constructor(
    readonly table: DirectoryTable,
    compiled?: CompiledProtocol,
  ) {
    this.compiled = compiled ?? compileProtocol([], table);
  }

  /** Would this message be consumed now (not stalled)? Used by the model checker to find deadlocks. */
  isStalled<V>(d: DirLine<V>, msg: CoherenceMessage<V>): boolean {
    const r = this.match(d, msg);
    return r >= 0 && this.compiled.dirOps[this.compiled.dirOpStart[r]!] === D_STALL;
  }

  /** Index in the table of the row that handles `msg` now, -1 if none. */
  match<V>(d: DirLine<V>, msg: CoherenceMessage<V>): number {
    const r = matchDirRow(
      this.compiled,
      DIR_CODE.get(d.state)!,
      EVENT_CODE.get(msg.type)!,
      d.sharers.size,
      d.sharers.has(msg.from),
      d.owner === msg.from,
      d.acks,
      msg.kept === true,
    );
    if (r === -2)
      throw new ProtocolError(
        `directory: ambiguous rows for ${d.state} on ${msg.type}`,
        "directory",
        d.state,
        msg.type,
      );
    return r;
  }

  step<V>(d: DirLine<V>, msg: CoherenceMessage<V>, fx: DirEffects<V>): StepResult {
    const r = this.match(d, msg);
    if (r < 0) {
      throw new ProtocolError(
        `directory: no transition for ${d.state} on ${msg.type} from ${msg.from}`,
        "directory",
        d.state,
        msg.type,
      );
    }
    const p = this.compiled;
    const line = msg.line;
    for (let i = p.dirOpStart[r]!; i < p.dirOpStart[r + 1]!; i++) {
      const op = p.dirOps[i]!;
      switch (op) {
        case D_STALL:
          return "stalled";
        case D_SET_REQUESTER:
          d.requester = msg.from;
          break;
        case D_SEND_DATA_S:
        case D_SEND_DATA_E:
        case D_SEND_DATA_M: {
          const type = EVENTS[DIR_SEND_TYPE[op]!] as ToCacheType;
          fx.send({ type, line, from: DIRECTORY, to: d.requester, value: d.home });
          break;
        }
        case D_SEND_INV_OTHERS: {
          let n = 0;
          for (const s of d.sharers) {
            if (s === d.requester) continue;
            fx.send({ type: "Inv", line, from: DIRECTORY, to: s });
            n++;
          }
          d.acks = n;
          break;
        }
        case D_SEND_RECALL_S:
          fx.send({ type: "RecallS", line, from: DIRECTORY, to: d.owner });
          break;
        case D_SEND_RECALL_M:
          fx.send({ type: "RecallM", line, from: DIRECTORY, to: d.owner });
          break;
        case D_SEND_PUT_ACK:
          fx.send({ type: "PutAck", line, from: DIRECTORY, to: msg.from });
          break;
        case D_ADD_REQUESTER:
          d.sharers.add(d.requester);
          break;
        case D_REMOVE_SENDER:
          d.sharers.delete(msg.from);
          break;
        case D_CLEAR_SHARERS:
          d.sharers.clear();
          break;
        case D_OWNER_IS_REQUESTER:
          d.owner = d.requester;
          break;
        case D_CLEAR_OWNER:
          d.owner = -1;
          break;
        case D_WRITE_HOME:
          d.home = msg.value;
          break;
        case D_ABSORB_OWNER_DATA:
          if (msg.dirty) d.home = msg.value;
          if (msg.kept) d.sharers.add(msg.from);
          break;
        case D_COUNT_ACK:
          d.acks--;
          break;
      }
    }
    d.state = DIR_STATES[p.dirNext[r]!]!;
    return "done";
  }
}

export function newDirLine<V>(home: V | undefined): DirLine<V> {
  return { state: "I", owner: -1, sharers: new Set(), acks: 0, requester: -1, home };
}
