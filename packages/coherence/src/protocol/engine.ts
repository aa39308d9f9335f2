// Interprets the two protocol tables. One step = find the row for (state, event[, guard]) and run its
// actions against a line. Both the runtime manager and the model checker call these functions.
import { type CacheAction, type CacheRow, type CacheTable, indexCacheTable } from "./cache-table.js";
import type { DirectoryTable, DirGuard, DirRow } from "./directory-table.js";
import {
  type CacheState,
  type CoherenceMessage,
  DIRECTORY,
  type DirState,
  type ProcessorEvent,
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

// Cache actions compiled to small opcodes once, so a step does no string parsing.
enum Op {
  Stall,
  ReadHit,
  Write,
  Fill,
  DropData,
  Send,
  SendPutM,
  SendOwnerData,
}

interface CompiledCacheRow {
  row: CacheRow;
  ops: Op[];
  /** Per op: the message type to send (Send), or OwnerData's flags. */
  args: ({ type: ToDirType } | { dirty: boolean; kept: boolean } | undefined)[];
}

function compileCacheRow(r: CacheRow): CompiledCacheRow {
  const ops: Op[] = [];
  const args: CompiledCacheRow["args"] = [];
  const simple: Partial<Record<CacheAction, Op>> = {
    stall: Op.Stall,
    readHit: Op.ReadHit,
    write: Op.Write,
    fill: Op.Fill,
    dropData: Op.DropData,
    "send:PutM": Op.SendPutM,
  };
  for (const a of r.actions) {
    const op = simple[a];
    if (op !== undefined) {
      ops.push(op);
      args.push(undefined);
    } else if (a.startsWith("send:OwnerData")) {
      ops.push(Op.SendOwnerData);
      args.push({ dirty: a.includes("dirty"), kept: a.includes(",kept") });
    } else {
      ops.push(Op.Send);
      args.push({ type: a.slice("send:".length) as ToDirType });
    }
  }
  return { row: r, ops, args };
}

export class CacheController {
  private readonly index = new Map<string, Map<string, CompiledCacheRow>>();
  constructor(readonly table: CacheTable) {
    for (const r of indexCacheTable(table).values()) {
      const byEvent = this.index.get(r.state) ?? new Map<string, CompiledCacheRow>();
      byEvent.set(r.event, compileCacheRow(r));
      this.index.set(r.state, byEvent);
    }
  }

  row(state: CacheState, event: string): CacheRow | undefined {
    return this.index.get(state)?.get(event)?.row;
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
    const c = this.index.get(line.state)?.get(name);
    if (!c)
      throw new ProtocolError(
        `cache ${node}: no transition for ${line.state} on ${name}`,
        "cache",
        line.state,
        name,
      );
    const msg = typeof event === "string" ? undefined : event;
    const { ops, args } = c;
    for (let i = 0; i < ops.length; i++) {
      switch (ops[i]) {
        case Op.Stall:
          return "stalled";
        case Op.ReadHit:
          fx.readHit(line.value);
          break;
        case Op.Write:
          line.value = fx.write();
          break;
        case Op.Fill:
          line.value = msg?.value;
          break;
        case Op.DropData:
          line.value = undefined;
          break;
        case Op.SendPutM:
          fx.send({ type: "PutM", line: lineId, from: node, to: DIRECTORY, value: line.value });
          break;
        case Op.SendOwnerData: {
          const f = args[i] as { dirty: boolean; kept: boolean };
          fx.send({
            type: "OwnerData",
            line: lineId,
            from: node,
            to: DIRECTORY,
            value: line.value,
            dirty: f.dirty,
            kept: f.kept,
          });
          break;
        }
        case Op.Send:
          fx.send({ type: (args[i] as { type: ToDirType }).type, line: lineId, from: node, to: DIRECTORY });
          break;
      }
    }
    line.state = c.row.next;
    return "done";
  }
}

function guardHolds<V>(g: DirGuard, d: DirLine<V>, msg: CoherenceMessage<V>): boolean {
  switch (g) {
    case "always":
      return true;
    case "noOtherSharers":
      return d.sharers.size === 0 || (d.sharers.size === 1 && d.sharers.has(msg.from));
    case "otherSharers":
      return d.sharers.size > (d.sharers.has(msg.from) ? 1 : 0);
    case "lastSharer":
      return d.sharers.has(msg.from) && d.sharers.size === 1;
    case "notLastSharer":
      return d.sharers.has(msg.from) && d.sharers.size > 1;
    case "notFromSharer":
      return !d.sharers.has(msg.from);
    case "fromOwner":
      return d.owner === msg.from;
    case "notFromOwner":
      return d.owner !== msg.from;
    case "lastAck":
      return d.acks === 1;
    case "moreAcks":
      return d.acks > 1;
  }
}

export class DirectoryController {
  private readonly index = new Map<string, DirRow[]>();
  constructor(readonly table: DirectoryTable) {
    for (const r of table) {
      const k = `${r.state}|${r.event}`;
      const rows = this.index.get(k) ?? [];
      rows.push(r);
      this.index.set(k, rows);
    }
  }

  /** Would this message be consumed now (not stalled)? Used by the model checker to find deadlocks. */
  isStalled<V>(d: DirLine<V>, msg: CoherenceMessage<V>): boolean {
    const r = this.match(d, msg);
    return r !== undefined && r.actions[0] === "stall";
  }

  private match<V>(d: DirLine<V>, msg: CoherenceMessage<V>): DirRow | undefined {
    const rows = this.index.get(`${d.state}|${msg.type}`);
    if (!rows) return undefined;
    // No closures here: this is the hot path of every directory message.
    let hit: DirRow | undefined;
    for (const r of rows) {
      if (!guardHolds(r.guard, d, msg)) continue;
      if (hit)
        throw new ProtocolError(
          `directory: ambiguous rows for ${d.state} on ${msg.type}`,
          "directory",
          d.state,
          msg.type,
        );
      hit = r;
    }
    return hit;
  }

  step<V>(d: DirLine<V>, msg: CoherenceMessage<V>, fx: DirEffects<V>): StepResult {
    const r = this.match(d, msg);
    if (!r) {
      throw new ProtocolError(
        `directory: no transition for ${d.state} on ${msg.type} from ${msg.from}`,
        "directory",
        d.state,
        msg.type,
      );
    }
    const line = msg.line;
    for (const a of r.actions) {
      switch (a) {
        case "stall":
          return "stalled";
        case "setRequester":
          d.requester = msg.from;
          break;
        case "send:DataS":
          fx.send({ type: "DataS", line, from: DIRECTORY, to: d.requester, value: d.home });
          break;
        case "send:DataE":
          fx.send({ type: "DataE", line, from: DIRECTORY, to: d.requester, value: d.home });
          break;
        case "send:DataM":
          fx.send({ type: "DataM", line, from: DIRECTORY, to: d.requester, value: d.home });
          break;
        case "send:Inv->others": {
          let n = 0;
          for (const s of d.sharers) {
            if (s === d.requester) continue;
            fx.send({ type: "Inv", line, from: DIRECTORY, to: s });
            n++;
          }
          d.acks = n;
          break;
        }
        case "send:RecallS":
          fx.send({ type: "RecallS", line, from: DIRECTORY, to: d.owner });
          break;
        case "send:RecallM":
          fx.send({ type: "RecallM", line, from: DIRECTORY, to: d.owner });
          break;
        case "send:PutAck":
          fx.send({ type: "PutAck", line, from: DIRECTORY, to: msg.from });
          break;
        case "addRequester":
          d.sharers.add(d.requester);
          break;
        case "removeSender":
          d.sharers.delete(msg.from);
          break;
        case "clearSharers":
          d.sharers.clear();
          break;
        case "ownerIsRequester":
          d.owner = d.requester;
          break;
        case "clearOwner":
          d.owner = -1;
          break;
        case "writeHome":
          d.home = msg.value;
          break;
        case "absorbOwnerData":
          if (msg.dirty) d.home = msg.value;
          if (msg.kept) d.sharers.add(msg.from);
          break;
        case "countAck":
          d.acks--;
          break;
      }
    }
    d.state = r.next;
    return "done";
  }
}

export function newDirLine<V>(home: V | undefined): DirLine<V> {
  return { state: "I", owner: -1, sharers: new Set(), acks: 0, requester: -1, home };
}
