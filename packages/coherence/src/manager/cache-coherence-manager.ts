// CacheCoherenceManager: the L1 caches of several nodes, a directory at L2 and a backing store at L3,
// kept coherent by the MESI tables in ../protocol. Messages travel through one queue per node (and one
// for the directory); handling a message is one table step. Write policy per data class: write-through
// (store, then write back at once and persist to L3 before acknowledging) or write-back (dirty in L1,
// then coalesced in the L2->L3 write buffer).
import { type DataClass, InvalidInputError } from "@meridian/core";
import { CACHE_TABLE, type CacheTable } from "../protocol/cache-table.js";
import { DIRECTORY_TABLE, type DirectoryTable } from "../protocol/directory-table.js";
import {
  CacheController,
  type CacheLine,
  DirectoryController,
  type DirLine,
  newDirLine,
} from "../protocol/engine.js";
import {
  type CacheState,
  type CoherenceMessage,
  DIRECTORY,
  type ProcessorEvent,
  READABLE_STATES,
} from "../protocol/messages.js";
import type { BackingStore } from "./backing-store.js";
import { DEFAULT_POLICY, type WritePolicy } from "./policy.js";
import { WriteBuffer, type WriteBufferOptions } from "./write-buffer.js";

export interface CacheLevels<V> {
  /** Private caches, one per node; `capacity` lines each, evicted least-recently-used. */
  l1: { caches: number; capacity: number };
  /** The directory's home copies; dirty ones reach L3 through the write buffer. */
  l2?: { writeBuffer?: Partial<WriteBufferOptions> };
  /** The global backing store. */
  l3: BackingStore<V>;
}

export interface ManagerOptions {
  policy?: Readonly<Record<DataClass, WritePolicy>>;
  cacheTable?: CacheTable;
  directoryTable?: DirectoryTable;
  /** Called with the duration of every handled message (ns), for the bench. */
  onMessageHandled?: (type: string, nanos: number) => void;
}

export interface ManagerStats {
  messagesHandled: number;
  byType: Record<string, number>;
  l1Hits: number;
  l1Misses: number;
  evictions: number;
}

type L1Line<V> = CacheLine<V>;

export class CacheCoherenceManager<V = unknown> {
  private readonly cacheCtl: CacheController;
  private readonly dirCtl: DirectoryController;
  private readonly l1: Map<string, L1Line<V>>[];
  private readonly dir = new Map<string, DirLine<V>>();
  /** One inbound queue per node; index `caches` is the directory's. */
  private readonly queues: CoherenceMessage<V>[][];
  /** Directory messages stalled behind a busy line, retried when the line moves. */
  private readonly stalled = new Map<string, CoherenceMessage<V>[]>();
  private readonly classOf = new Map<string, DataClass>();
  private readonly writeBuffer: WriteBuffer<V>;
  private readonly policy: Readonly<Record<DataClass, WritePolicy>>;
  private pumping = false;
  /** Set by readHit during a step: the value a load returned. */
  private lastRead: { value: V | undefined } | undefined;
  private pendingWrite: V | undefined;
  readonly stats: ManagerStats = { messagesHandled: 0, byType: {}, l1Hits: 0, l1Misses: 0, evictions: 0 };

  constructor(
    private readonly cacheLevels: CacheLevels<V>,
    private readonly options: ManagerOptions = {},
  ) {
    if (cacheLevels.l1.caches < 1 || cacheLevels.l1.capacity < 1) {
      throw new InvalidInputError("need at least one L1 cache with capacity >= 1", { l1: cacheLevels.l1 });
    }
    this.cacheCtl = new CacheController(options.cacheTable ?? CACHE_TABLE);
    this.dirCtl = new DirectoryController(options.directoryTable ?? DIRECTORY_TABLE);
    this.policy = options.policy ?? DEFAULT_POLICY;
    this.l1 = Array.from({ length: cacheLevels.l1.caches }, () => new Map());
    this.queues = Array.from({ length: cacheLevels.l1.caches + 1 }, () => []);
    this.writeBuffer = new WriteBuffer<V>((entries) => cacheLevels.l3.setMany(entries), {
      maxEntries: cacheLevels.l2?.writeBuffer?.maxEntries ?? 1024,
      maxAgeMs: cacheLevels.l2?.writeBuffer?.maxAgeMs ?? 100,
    });
  }

  get nodes(): number {
    return this.l1.length;
  }

  /** Read `key` at `node`: an L1 hit, or a GetS through the directory (loading L2 from L3 if needed). */
  async readRequest(node: number, key: string): Promise<V | undefined> {
    this.checkNode(node);
    const line = this.l1[node]!.get(key);
    if (line && READABLE_STATES.has(line.state)) {
      this.stats.l1Hits++;
      this.touch(this.l1[node]!, key, line);
      return line.value;
    }
    this.stats.l1Misses++;
    if (!this.dir.has(key)) await this.ensureHome(key); // skip the microtask on the hot path
    this.makeRoom(node, key);
    this.lastRead = undefined;
    this.processorEvent(node, key, "Load");
    this.pump();
    const read = this.lastRead as { value: V | undefined } | undefined;
    if (!read) throw new Error(`load of ${key} at node ${node} did not complete`);
    return read.value;
  }

  /** Write `key` at `node` with the policy of its data class (default "important" = write-back). */
  async writeRequest(node: number, key: string, value: V, dataClass: DataClass = "important"): Promise<void> {
    this.checkNode(node);
    this.classOf.set(key, dataClass);
    if (!this.dir.has(key)) await this.ensureHome(key); // skip the microtask on the hot path
    this.makeRoom(node, key);
    this.pendingWrite = value;
    this.processorEvent(node, key, "Store");
    this.pump();
    const line = this.l1[node]!.get(key);
    if (line?.state !== "M")
      throw new Error(`store of ${key} at node ${node} did not complete (${line?.state})`);
    if (this.policy[dataClass] === "write-through") {
      // No-write-allocate: hand the line straight back so L2 holds it, then persist to L3 before acking.
      this.processorEvent(node, key, "Evict");
      this.pump();
      await this.writeBuffer.flushKey(key);
    }
  }

  /**
   * An outside change to `key` (another region wrote L3): every L1 copy is recalled through the
   * protocol (dirty data first reaches L2), pending buffered data is written, and L2 forgets the line
   * so the next read loads it from L3.
   */
  async invalidateRequest(key: string): Promise<void> {
    for (let n = 0; n < this.nodes; n++) this.evictLine(n, key);
    this.pump();
    await this.writeBuffer.flushKey(key);
    // Forget the home copy only if nobody took the line (or dirtied it again) while we flushed.
    const d = this.dir.get(key);
    if (d && d.state === "I" && !this.writeBuffer.has(key)) this.dir.delete(key);
  }

  /**
   * Move `node`'s copy of `key` to `target` through the protocol: "I" evicts it, "S"/"E" load it
   * (the directory decides S or E). Returns the state reached. "M" needs a value: use writeRequest.
   */
  async updateState(node: number, key: string, target: CacheState): Promise<CacheState> {
    this.checkNode(node);
    if (target === "I") {
      this.evictLine(node, key);
      this.pump();
    } else if (target === "S" || target === "E") {
      await this.readRequest(node, key);
    } else {
      throw new InvalidInputError(`updateState cannot move a line to ${target}; use writeRequest for M`, {
        target,
      });
    }
    return this.stateOf(node, key);
  }

  /**
   * The transport every protocol message goes through: puts it on its destination's queue (one per
   * node, one for the directory). Queued messages are handled when the current operation pumps the
   * queues, or by `drain()`. A message the protocol would not send in the receiver's state has no
   * table row and raises a ProtocolError rather than corrupting a line.
   */
  sendCoherenceMessage(msg: CoherenceMessage<V>): void {
    const q = msg.to === DIRECTORY ? this.nodes : msg.to;
    if (!Number.isInteger(q) || q < 0 || q > this.nodes) {
      throw new InvalidInputError(`no such destination ${msg.to}`, { to: msg.to });
    }
    this.queues[q]!.push(msg);
  }

  /** Handle every queued message. */
  drain(): void {
    this.pump();
  }

  stateOf(node: number, key: string): CacheState {
    return this.l1[node]?.get(key)?.state ?? "I";
  }

  directoryOf(key: string): Readonly<DirLine<V>> | undefined {
    return this.dir.get(key);
  }

  /** Keys with dirty data that has not reached L3 yet (dirty L1 lines and buffered L2 lines). */
  dirtyKeys(): string[] {
    const keys = new Set<string>();
    for (const cache of this.l1) for (const [k, l] of cache) if (l.state === "M") keys.add(k);
    for (const [k] of this.dir) if (this.writeBuffer.has(k)) keys.add(k);
    return [...keys];
  }

  /** Orderly shutdown: every dirty L1 line is written back, then the write buffer is flushed to L3. */
  async shutdown(): Promise<void> {
    for (let n = 0; n < this.nodes; n++) for (const key of [...this.l1[n]!.keys()]) this.evictLine(n, key);
    this.pump();
    await this.writeBuffer.close();
  }

  // --- internals -------------------------------------------------------------------------------

  private checkNode(node: number): void {
    if (!Number.isInteger(node) || node < 0 || node >= this.nodes) {
      throw new InvalidInputError(`no such node ${node}`, { node, nodes: this.nodes });
    }
  }

  private async ensureHome(key: string): Promise<void> {
    if (this.dir.has(key)) return;
    const value = await this.cacheLevels.l3.get(key);
    if (!this.dir.has(key)) this.dir.set(key, newDirLine<V>(value));
  }

  /** Evict the least-recently-used line when a miss would exceed the node's capacity. */
  private makeRoom(node: number, key: string): void {
    const cache = this.l1[node]!;
    if (cache.has(key) || cache.size < this.cacheLevels.l1.capacity) return;
    // Map order is recency order (touch() re-inserts), so the first stable line is the LRU victim.
    let victim: string | undefined;
    for (const [k, l] of cache) {
      if (!l.state.includes("_")) {
        victim = k;
        break;
      }
    }
    if (victim === undefined) return;
    this.stats.evictions++;
    this.evictLine(node, victim);
    this.pump();
  }

  /** Mark a line most recently used. */
  private touch(cache: Map<string, L1Line<V>>, key: string, line: L1Line<V>): void {
    cache.delete(key);
    cache.set(key, line);
  }

  private evictLine(node: number, key: string): void {
    const line = this.l1[node]!.get(key);
    if (!line || line.state === "I") return;
    this.processorEvent(node, key, "Evict");
  }

  private processorEvent(node: number, key: string, ev: ProcessorEvent): void {
    const cache = this.l1[node]!;
    let line = cache.get(key);
    if (!line) {
      line = { state: "I", value: undefined };
      cache.set(key, line);
    } else {
      this.touch(cache, key, line);
    }
    const res = this.cacheCtl.step(node, key, line, ev, this.cacheEffects);
    if (res === "stalled") throw new Error(`node ${node}: ${ev} on ${key} stalled in ${line.state}`);
    if (line.state === "I") cache.delete(key);
  }

  private readonly cacheEffects = {
    send: (m: CoherenceMessage<V>) => this.sendCoherenceMessage(m),
    readHit: (v: V | undefined) => {
      this.lastRead = { value: v };
    },
    write: () => this.pendingWrite as V,
  };

  private readonly dirEffects = { send: (m: CoherenceMessage<V>) => this.sendCoherenceMessage(m) };

  /** Handle queued messages round-robin until every queue is empty. */
  private pump(): void {
    if (this.pumping) return;
    this.pumping = true;
    try {
      let progressed = true;
      while (progressed) {
        progressed = false;
        for (let q = 0; q < this.queues.length; q++) {
          const msg = this.queues[q]!.shift();
          if (!msg) continue;
          progressed = true;
          this.handle(msg);
        }
      }
    } finally {
      this.pumping = false;
    }
  }

  private handle(msg: CoherenceMessage<V>): void {
    const t0 = this.options.onMessageHandled ? process.hrtime.bigint() : 0n;
    if (msg.to === DIRECTORY) this.handleAtDirectory(msg);
    else {
      const cache = this.l1[msg.to]!;
      let line = cache.get(msg.line);
      if (!line) {
        line = { state: "I", value: undefined };
        cache.set(msg.line, line);
      }
      this.cacheCtl.step(msg.to, msg.line, line, msg, this.cacheEffects);
      if (line.state === "I") cache.delete(msg.line);
    }
    this.stats.messagesHandled++;
    this.stats.byType[msg.type] = (this.stats.byType[msg.type] ?? 0) + 1;
    if (this.options.onMessageHandled)
      this.options.onMessageHandled(msg.type, Number(process.hrtime.bigint() - t0));
  }

  private handleAtDirectory(msg: CoherenceMessage<V>): void {
    const d = this.dir.get(msg.line);
    if (!d) throw new Error(`directory has no home line for ${msg.line}`);
    const before = d.home;
    if (this.dirCtl.step(d, msg, this.dirEffects) === "stalled") {
      const waiting = this.stalled.get(msg.line) ?? [];
      waiting.push(msg);
      this.stalled.set(msg.line, waiting);
      return;
    }
    if (d.home !== before) {
      // The home (L2) copy is now newer than L3: it waits in the write buffer.
      void this.writeBuffer.put(msg.line, d.home as V).catch(() => {});
    }
    // The line moved: give the stalled messages for it another chance, oldest first.
    const waiting = this.stalled.get(msg.line);
    if (waiting && waiting.length > 0 && (d.state === "I" || d.state === "S" || d.state === "EM")) {
      this.stalled.delete(msg.line);
      this.queues[this.nodes]!.unshift(...waiting);
    }
  }
}
