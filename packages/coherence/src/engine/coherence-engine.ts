// CoherenceEngine: the MESI protocol on integer-coded state. Cache lines, directory lines and in-flight
// messages live in typed arrays; a step looks up the compiled table row and runs its opcodes. The hot
// path (processor operation, drain) allocates nothing and creates no Promise: values are 64-bit
// numbers (a payload or a handle into the caller's own value store).
import { InvalidInputError } from "@meridian/core";
import { CACHE_TABLE, type CacheTable } from "../protocol/cache-table.js";
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
  D_SEND_INV_OTHERS,
  D_SEND_PUT_ACK,
  D_SEND_RECALL_M,
  D_SEND_RECALL_S,
  D_SET_REQUESTER,
  D_STALL,
  D_WRITE_HOME,
  DIR_SEND_TYPE,
  DIR_STATES,
  EV_EVICT,
  EV_LOAD,
  EV_STORE,
  EVENTS,
  matchDirRow,
  TYPE_INV,
} from "../protocol/compiled.js";
import { DIRECTORY_TABLE, type DirectoryTable } from "../protocol/directory-table.js";
import { ProtocolError } from "../protocol/engine.js";
import { DIRECTORY } from "../protocol/messages.js";
import { MessageRing } from "./message-ring.js";

export interface EngineOptions {
  /** Caches (nodes); at most 32, the sharer set is one 32-bit mask per line. */
  nodes: number;
  lines: number;
  /** Home value of every line before any write. */
  initialValue?: number;
  cacheTable?: CacheTable;
  directoryTable?: DirectoryTable;
  queueCapacity?: number;
}

/** Result of a processor operation. */
export const DONE = 0;
/** The line has a transaction in flight at this node: drain, then retry. */
export const STALLED = 1;
/** Issued: a request is in flight; the operation completes during drain(). */
export const ISSUED = 2;

const OWNER_DATA = EVENTS.indexOf("OwnerData");
const NO_ONE = -1;
/** Cache states with a readable copy (S, E, M, SM_D) and with write permission (E, M). */
const READABLE = new Uint8Array(CACHE_STATES.map((s) => (["S", "E", "M", "SM_D"].includes(s) ? 1 : 0)));
const WRITABLE = new Uint8Array(CACHE_STATES.map((s) => (s === "E" || s === "M" ? 1 : 0)));

function popcount(x: number): number {
  let v = x - ((x >>> 1) & 0x55555555);
  v = (v & 0x33333333) + ((v >>> 2) & 0x33333333);
  return (((v + (v >>> 4)) & 0x0f0f0f0f) * 0x01010101) >>> 24;
}

export class CoherenceEngine {
  readonly nodes: number;
  readonly lines: number;
  private readonly p: CompiledProtocol;
  /** [node * lines + line] */
  readonly cacheState: Uint8Array;
  readonly cacheValue: Float64Array;
  /** The value a pending store writes, per [node * lines + line]. */
  private readonly pendingStore: Float64Array;
  /** The value the last completed load returned, per [node * lines + line]. */
  readonly lastRead: Float64Array;
  readonly dirState: Uint8Array;
  readonly dirOwner: Int32Array;
  readonly dirSharers: Uint32Array;
  readonly dirAcks: Int32Array;
  readonly dirRequester: Int32Array;
  readonly dirHome: Float64Array;
  private readonly net: MessageRing;
  messagesHandled = 0;
  loadsCompleted = 0;
  storesCompleted = 0;

  constructor(opts: EngineOptions) {
    const { nodes, lines } = opts;
    if (!Number.isInteger(nodes) || nodes < 1 || nodes > 32)
      throw new InvalidInputError("nodes must be an integer in 1..32", { nodes });
    if (!Number.isInteger(lines) || lines < 1)
      throw new InvalidInputError("lines must be a positive integer", { lines });
    this.nodes = nodes;
    this.lines = lines;
    this.p = compileProtocol(opts.cacheTable ?? CACHE_TABLE, opts.directoryTable ?? DIRECTORY_TABLE);
    this.cacheState = new Uint8Array(nodes * lines);
    this.cacheValue = new Float64Array(nodes * lines);
    this.pendingStore = new Float64Array(nodes * lines);
    this.lastRead = new Float64Array(nodes * lines);
    this.dirState = new Uint8Array(lines);
    this.dirOwner = new Int32Array(lines).fill(NO_ONE);
    this.dirSharers = new Uint32Array(lines);
    this.dirAcks = new Int32Array(lines);
    this.dirRequester = new Int32Array(lines).fill(NO_ONE);
    this.dirHome = new Float64Array(lines).fill(opts.initialValue ?? 0);
    this.net = new MessageRing(opts.queueCapacity ?? 4096);
  }

  get inFlight(): number {
    return this.net.size;
  }

  load(node: number, line: number): number {
    return this.processor(node, line, EV_LOAD);
  }

  store(node: number, line: number, value: number): number {
    const s = this.slot(node, line);
    const before = this.pendingStore[s]!;
    this.pendingStore[s] = value;
    const r = this.processor(node, line, EV_STORE);
    // A stalled store is not performed: the value of the store in flight stays.
    if (r === STALLED) this.pendingStore[s] = before;
    return r;
  }

  /** Give the line up; a line this node does not hold is already evicted (DONE). */
  evict(node: number, line: number): number {
    if (this.cacheState[this.slot(node, line)] === 0) return DONE;
    return this.processor(node, line, EV_EVICT);
  }

  /** Deliver queued messages in FIFO order (requests for a busy line go to the back) until none is left. */
  drain(): number {
    const q = this.net;
    let handled = 0;
    let waitedInARow = 0;
    while (q.size > 0) {
      const i = q.peek();
      const to = q.to[i]!;
      if (to === DIRECTORY) {
        if (!this.directoryStep(i)) {
          q.requeueHead();
          if (++waitedInARow > q.size)
            throw new ProtocolError("engine: every queued message waits (deadlock)", "directory", "?", "?");
          continue;
        }
      } else {
        const line = q.line[i]!;
        this.runCacheRow(to, line, to * this.lines + line, q.type[i]!, q.value[i]!);
      }
      waitedInARow = 0;
      q.pop();
      handled++;
    }
    this.messagesHandled += handled;
    return handled;
  }

  // --- cache controller ----------------------------------------------------------------------------

  private slot(node: number, line: number): number {
    if (node >>> 0 >= this.nodes || line >>> 0 >= this.lines)
      throw new InvalidInputError("node or line out of range", { node, line });
    return node * this.lines + line;
  }

  private processor(node: number, line: number, ev: number): number {
    const s = this.slot(node, line);
    const before = this.net.size;
    if (!this.runCacheRow(node, line, s, ev, 0)) return STALLED;
    return this.net.size > before ? ISSUED : DONE;
  }

  /** Runs the cache row for (state, event); false when the row stalls. */
  private runCacheRow(node: number, line: number, s: number, ev: number, value: number): boolean {
    const p = this.p;
    const state = this.cacheState[s]!;
    const r = p.cacheRow[state * p.events + ev]!;
    if (r < 0) {
      const st = CACHE_STATES[state]!;
      const name = EVENTS[ev]!;
      throw new ProtocolError(`cache ${node}: no transition for ${st} on ${name}`, "cache", st, name);
    }
    if (p.cacheStalls[r] === 1) return false;
    const ops = p.cacheOps;
    for (let i = p.cacheOpStart[r]!, end = p.cacheOpStart[r + 1]!; i < end; i++) {
      const arg = ops[2 * i + 1]!;
      switch (ops[2 * i]) {
        case C_READ_HIT:
          this.lastRead[s] = this.cacheValue[s]!;
          this.loadsCompleted++;
          break;
        case C_WRITE:
          this.cacheValue[s] = this.pendingStore[s]!;
          this.storesCompleted++;
          break;
        case C_FILL:
          this.cacheValue[s] = value;
          break;
        case C_DROP:
          this.cacheValue[s] = 0;
          break;
        case C_OWNER_DATA:
          this.net.push(OWNER_DATA, line, node, DIRECTORY, this.cacheValue[s]!, arg);
          break;
        case C_SEND:
          this.net.push(arg, line, node, DIRECTORY, this.cacheValue[s]!, 0);
          break;
      }
    }
    this.cacheState[s] = p.cacheNext[r]!;
    return true;
  }

  // --- directory --------------------------------------------------------------------------------

  /** Handles the message in ring slot i; false when the line is busy and the message must wait. */
  private directoryStep(i: number): boolean {
    const q = this.net;
    const p = this.p;
    const line = q.line[i]!;
    const from = q.from[i]!;
    const type = q.type[i]!;
    // Read before any send: a push may grow the ring and move slot i.
    const value = q.value[i]!;
    const flags = q.flags[i]!;
    const sharers = this.dirSharers[line]!;
    const fromBit = from >= 0 ? 1 << from : 0;
    const state = this.dirState[line]!;
    let r = p.dirUnguarded[state * p.events + type]!;
    if (r < 0) {
      r = matchDirRow(
        p,
        state,
        type,
        popcount(sharers),
        (sharers & fromBit) !== 0,
        this.dirOwner[line] === from,
        this.dirAcks[line]!,
        (flags & 2) !== 0,
      );
    }
    if (r < 0) {
      const st = DIR_STATES[state]!;
      const name = EVENTS[type]!;
      throw new ProtocolError(
        `directory: ${r === -2 ? "ambiguous rows" : "no transition"} for ${st} on ${name} from ${from}`,
        "directory",
        st,
        name,
      );
    }
    const ops = p.dirOps;
    for (let k = p.dirOpStart[r]!, end = p.dirOpStart[r + 1]!; k < end; k++) {
      const op = ops[k]!;
      switch (op) {
        case D_STALL:
          return false;
        case D_SET_REQUESTER:
          this.dirRequester[line] = from;
          break;
        case D_SEND_INV_OTHERS: {
          const req = this.dirRequester[line]!;
          let n = 0;
          for (let m = this.dirSharers[line]!, c = 0; m !== 0; m >>>= 1, c++) {
            if ((m & 1) === 0 || c === req) continue;
            q.push(TYPE_INV, line, DIRECTORY, c, 0, 0);
            n++;
          }
          this.dirAcks[line] = n;
          break;
        }
        case D_ADD_REQUESTER:
          this.dirSharers[line] = (this.dirSharers[line]! | (1 << this.dirRequester[line]!)) >>> 0;
          break;
        case D_REMOVE_SENDER:
          this.dirSharers[line] = (this.dirSharers[line]! & ~fromBit) >>> 0;
          break;
        case D_CLEAR_SHARERS:
          this.dirSharers[line] = 0;
          break;
        case D_OWNER_IS_REQUESTER:
          this.dirOwner[line] = this.dirRequester[line]!;
          break;
        case D_CLEAR_OWNER:
          this.dirOwner[line] = NO_ONE;
          break;
        case D_WRITE_HOME:
          this.dirHome[line] = value;
          break;
        case D_ABSORB_OWNER_DATA: {
          if (flags & 1) this.dirHome[line] = value;
          if (flags & 2) this.dirSharers[line] = (this.dirSharers[line]! | fromBit) >>> 0;
          break;
        }
        case D_COUNT_ACK:
          this.dirAcks[line] = this.dirAcks[line]! - 1;
          break;
        default: {
          // The remaining opcodes send one message: data to the requester, a recall to the owner, a PutAck.
          const t = DIR_SEND_TYPE[op]!;
          const dest =
            op === D_SEND_PUT_ACK
              ? from
              : op === D_SEND_RECALL_S || op === D_SEND_RECALL_M
                ? this.dirOwner[line]!
                : this.dirRequester[line]!;
          q.push(t, line, DIRECTORY, dest, this.dirHome[line]!, 0);
        }
      }
    }
    this.dirState[line] = p.dirNext[r]!;
    return true;
  }

  // --- inspection -------------------------------------------------------------------------------

  /** Single writer / multiple readers on every line; the first offending line, or -1. */
  swmrViolation(): number {
    for (let l = 0; l < this.lines; l++) {
      let writers = 0;
      let readers = 0;
      for (let n = 0; n < this.nodes; n++) {
        const st = this.cacheState[n * this.lines + l]!;
        if (WRITABLE[st]) writers++;
        else if (READABLE[st]) readers++;
      }
      if (writers > 1 || (writers === 1 && readers > 0)) return l;
    }
    return -1;
  }

  stateName(node: number, line: number): string {
    return CACHE_STATES[this.cacheState[this.slot(node, line)]!]!;
  }

  dirStateName(line: number): string {
    return DIR_STATES[this.dirState[line]!]!;
  }
}
