// CoherentNearCache: an in-process L1 in front of Redis (L2), kept coherent across nodes with the same
// MESI rules as the model-checked tables. Redis holds the directory (owner + sharer set per key) and
// runs each directory step as one Lua script; Inv and Recall travel over Redis pub/sub, one channel per
// node, and are acknowledged on the requester's channel. A write completes only after every sharer has
// acknowledged its invalidation (single writer, multiple readers). Dirty lines of write-back classes
// wait in a coalescing write buffer and are written back on age / size / eviction / recall / shutdown.
import { randomUUID } from "node:crypto";
import {
  BackendUnavailableError,
  type DataClass,
  InvalidInputError,
  type ReadBound,
  type RedisAuth,
  StalenessBoundError,
} from "@meridian/core";
import { createRedis } from "@meridian/store";
import { Redis } from "ioredis";
import { DEFAULT_POLICY, type WritePolicy } from "../manager/policy.js";
import { WriteBuffer } from "../manager/write-buffer.js";
import { LuaDirectory } from "./lua-directory.js";

export interface NearCacheOptions {
  redisUrl: string;
  /** Redis ACL user / password and TLS (configFromEnv().redisAuth), for both of its connections. */
  redisAuth?: RedisAuth;
  /** Namespace of every key and channel (one per deployment / test run). */
  prefix: string;
  nodeId?: string;
  l1Capacity?: number;
  policy?: Readonly<Record<DataClass, WritePolicy>>;
  /** Write buffer of write-back lines: flush at this many dirty keys or this age. */
  writeBuffer?: { maxEntries?: number; maxAgeMs?: number };
  /** L1 copies of "cacheable" data expire after this long, a bound even if an invalidation is lost. */
  cacheableTtlMs?: number;
  /** How long to wait for an InvAck / recall reply before checking the peer's lease. */
  requestTimeoutMs?: number;
  /** Liveness lease of this node in Redis; a node whose lease lapsed is treated as crashed. */
  leaseMs?: number;
}

export type LineState = "S" | "E" | "M";

interface L1Entry<V> {
  state: LineState;
  value: V | undefined;
  version: number;
  dataClass: DataClass;
  filledAt: number;
}

/** core's minVersion bound (an integer version here; StalenessBoundError when unmet), plus the class. */
export interface ReadOptions extends Pick<ReadBound<number>, "minVersion"> {
  /** The key's data class, when this node has not written it (decides the L1 TTL of "cacheable"). */
  dataClass?: DataClass;
}

export interface ReadResult<V> {
  value: V | undefined;
  version: number;
  /** Served from this process's L1 without touching Redis. */
  l1Hit: boolean;
  /** Milliseconds since this copy was taken from Redis (0 when just read). */
  ageMs: number;
}

type Wire =
  | { t: "Inv"; key: string; from: string; id: string }
  | { t: "Recall"; key: string; mode: "S" | "I"; from: string; id: string }
  | { t: "Ack"; id: string };

export interface NearCacheStats {
  l1Hits: number;
  l1Misses: number;
  invalidationsReceived: number;
  recallsServed: number;
  writebacks: number;
  evictions: number;
  lostWritebacks: number;
  connectionErrors: number;
}

export class CoherentNearCache<V = unknown> {
  readonly nodeId: string;
  private readonly redis: Redis;
  private readonly sub: Redis;
  private readonly directory: LuaDirectory;
  private readonly l1 = new Map<string, L1Entry<V>>();
  private readonly locks = new Map<string, Promise<unknown>>();
  private readonly pendingFills = new Map<string, { invalidated: boolean }>();
  private readonly waiting = new Map<string, () => void>();
  private readonly buffer: WriteBuffer<V>;
  private readonly policy: Readonly<Record<DataClass, WritePolicy>>;
  private leaseTimer: NodeJS.Timeout | undefined;
  /** Until when this node may trust its L1 (its lease is surely alive, so peers still wait for its acks). */
  private leaseUntil = 0;
  private subscribed = false;
  private closed = false;
  readonly stats: NearCacheStats = {
    l1Hits: 0,
    l1Misses: 0,
    invalidationsReceived: 0,
    recallsServed: 0,
    writebacks: 0,
    evictions: 0,
    lostWritebacks: 0,
    connectionErrors: 0,
  };

  private constructor(private readonly opts: NearCacheOptions) {
    if (!opts.prefix) throw new InvalidInputError("prefix is required");
    this.nodeId = opts.nodeId ?? randomUUID();
    this.policy = opts.policy ?? DEFAULT_POLICY;
    this.redis = createRedis(opts.redisUrl, { auth: opts.redisAuth });
    this.directory = new LuaDirectory(this.redis, opts.prefix);
    // The pub/sub connection skips ioredis's handshake commands (INFO ready check, CLIENT SETINFO):
    // since ioredis 5.8.2 they can be written after SUBSCRIBE on a (re)connect and Redis refuses them
    // in subscriber mode (redis/ioredis#2037), which left a node deaf to Inv/Recall.
    this.sub = new Redis(opts.redisUrl, {
      ...(opts.redisAuth?.username ? { username: opts.redisAuth.username } : {}),
      ...(opts.redisAuth?.password ? { password: opts.redisAuth.password.reveal() } : {}),
      ...(opts.redisAuth?.tls ? { tls: {} } : {}),
      enableReadyCheck: false,
      disableClientInfo: true,
      maxRetriesPerRequest: null,
    });
    this.buffer = new WriteBuffer<V>((entries) => this.writeBackMany(entries), {
      maxEntries: opts.writeBuffer?.maxEntries ?? 256,
      maxAgeMs: opts.writeBuffer?.maxAgeMs ?? 50,
    });
  }

  /** Connect both Redis connections, take the liveness lease and subscribe to this node's channel. */
  static async connect<V>(opts: NearCacheOptions): Promise<CoherentNearCache<V>> {
    const c = new CoherentNearCache<V>(opts);
    await c.start();
    return c;
  }

  private async start(): Promise<void> {
    try {
      await this.renewLease();
      this.sub.on("message", (_ch: string, raw: string) => this.onWire(raw));
      // ioredis reconnects by itself; count the errors instead of letting them print as unhandled.
      const countError = () => {
        this.stats.connectionErrors++;
      };
      this.sub.on("error", countError);
      this.redis.on("error", countError);
      // A dropped subscription may have lost invalidations: clean L1 copies can no longer be trusted.
      this.sub.on("close", () => {
        this.subscribed = false;
        this.dropCleanLines();
      });
      this.sub.on("ready", () => {
        this.subscribed = true;
      });
      // Named (before it enters subscriber mode) so it can be found in CLIENT LIST.
      await this.sub.client("SETNAME", this.subscriberName());
      await this.sub.subscribe(this.channel(this.nodeId));
      this.subscribed = true;
    } catch (err) {
      this.redis.disconnect();
      this.sub.disconnect();
      throw new BackendUnavailableError(`near cache cannot reach Redis: ${(err as Error).message}`, {
        backend: "redis",
      });
    }
    const lease = this.opts.leaseMs ?? 3000;
    this.leaseTimer = setInterval(() => void this.renewLease().catch(() => {}), lease / 3);
    this.leaseTimer.unref();
  }

  // --- public API --------------------------------------------------------------------------------

  async get(key: string, opts: ReadOptions = {}): Promise<ReadResult<V>> {
    this.checkOpen(key);
    const hit = this.l1Hit(key, opts.minVersion ?? 0);
    if (hit) return hit;
    const r = await this.withKeyLock(key, async () => {
      const again = this.l1Hit(key, opts.minVersion ?? 0);
      if (again) return again;
      this.stats.l1Misses++;
      return this.fetchShared(key, opts.dataClass);
    });
    if (opts.minVersion !== undefined && r.version < opts.minVersion && this.l1.get(key)?.state !== "M") {
      throw new StalenessBoundError(
        `${key}: version ${r.version} is older than the required ${opts.minVersion}`,
        {
          key,
          version: r.version,
          minVersion: opts.minVersion,
        },
      );
    }
    return r;
  }

  async set(key: string, value: V, dataClass: DataClass = "important"): Promise<void> {
    this.checkOpen(key);
    await this.withKeyLock(key, async () => {
      let line = this.l1.get(key);
      // After a lease lapse, settle the old dirty value first (written if still ours, else dropped),
      // so it can never land after a newer write from another node.
      if (line?.state === "M" && !this.leaseOk()) await this.buffer.flushKey(key);
      line = this.l1.get(key);
      if (!line || line.state === "S" || !this.leaseOk()) {
        const granted = await this.acquireExclusive(key);
        line = this.install(key, "M", granted.value, granted.version, dataClass);
      }
      line.state = "M";
      line.value = value;
      line.dataClass = dataClass;
      this.touch(key, line);
      // Both policies go through the buffer so an older buffered value can never land after this one.
      await this.buffer.put(key, value);
      if (this.policy[dataClass] === "write-through") {
        await this.buffer.flushKey(key);
        if (this.l1.get(key) !== line) {
          throw new BackendUnavailableError(`write-through of ${key} refused: ownership was lost`, { key });
        }
        line.state = "E";
      }
    });
  }

  /** Drop this node's copy (dirty data is written back first). */
  async evict(key: string): Promise<void> {
    await this.withKeyLock(key, () => this.evictLocked(key));
  }

  stateOf(key: string): LineState | "I" {
    return this.l1.get(key)?.state ?? "I";
  }

  /** Keys whose latest value is only in this process (dirty, not yet in Redis). */
  dirtyKeys(): string[] {
    return [...this.l1].filter(([k, l]) => l.state === "M" && this.buffer.has(k)).map(([k]) => k);
  }

  /** Write back every dirty line now (without giving up ownership). */
  flush(): Promise<void> {
    return this.buffer.flushAll();
  }

  /** Orderly shutdown: every dirty line reaches Redis, every copy is released, connections close. */
  async close(): Promise<void> {
    if (this.closed) return;
    for (const key of [...this.l1.keys()]) await this.evict(key);
    await this.buffer.close();
    this.closed = true;
    if (this.leaseTimer) clearInterval(this.leaseTimer);
    await this.redis.del(this.leaseKey(this.nodeId)).catch(() => 0);
    await this.sub.quit().catch(() => undefined);
    await this.redis.quit().catch(() => undefined);
  }

  // --- reads and writes ---------------------------------------------------------------------------

  private l1Hit(key: string, minVersion: number): ReadResult<V> | undefined {
    const line = this.l1.get(key);
    if (!line || !this.subscribed || !this.leaseOk()) return undefined;
    if (line.version < minVersion && line.state !== "M") return undefined;
    const ttl = this.opts.cacheableTtlMs ?? 1000;
    if (line.state === "S" && line.dataClass === "cacheable" && Date.now() - line.filledAt > ttl)
      return undefined;
    this.stats.l1Hits++;
    this.touch(key, line);
    return { value: line.value, version: line.version, l1Hit: true, ageMs: Date.now() - line.filledAt };
  }

  private async fetchShared(key: string, dataClass?: DataClass): Promise<ReadResult<V>> {
    for (let attempt = 0; ; attempt++) {
      const fill = { invalidated: false };
      this.pendingFills.set(key, fill);
      let reply: string[];
      try {
        reply = await this.directory.getS(key, this.nodeId);
      } finally {
        this.pendingFills.delete(key);
      }
      if (reply[0] === "recall") {
        await this.recall(key, reply[1]!, "S", attempt);
        continue;
      }
      const local = this.l1.get(key);
      if (local && reply[3] === "owner") {
        // Still ours (we only doubted our lease): our copy, dirty or not, is the latest.
        this.touch(key, local);
        return { value: local.value, version: local.version, l1Hit: false, ageMs: 0 };
      }
      if (local?.state === "M" && this.buffer.discard(key)) this.stats.lostWritebacks++; // taken from us
      const value = decode<V>(reply[1]!);
      const version = Number(reply[2]);
      // An Inv that raced this fill means the value may already be superseded: use it once, don't cache it.
      if (!fill.invalidated) {
        await this.makeRoom(key);
        this.install(
          key,
          reply[0] as LineState,
          value,
          version,
          dataClass ?? this.l1.get(key)?.dataClass ?? "important",
        );
      }
      return { value, version, l1Hit: false, ageMs: 0 };
    }
  }

  private async acquireExclusive(key: string): Promise<{ value: V | undefined; version: number }> {
    for (let attempt = 0; ; attempt++) {
      const reply = await this.directory.getM(key, this.nodeId);
      if (reply[0] === "recall") {
        await this.recall(key, reply[1]!, "I", attempt);
        continue;
      }
      const sharers = reply.slice(3);
      await Promise.all(
        sharers.map((s) => this.request(s, { t: "Inv", key, from: this.nodeId, id: randomUUID() })),
      );
      if (!this.l1.has(key)) await this.makeRoom(key);
      return { value: decode<V>(reply[1]!), version: Number(reply[2]) };
    }
  }

  private install(
    key: string,
    state: LineState,
    value: V | undefined,
    version: number,
    dataClass: DataClass,
  ) {
    const line: L1Entry<V> = { state, value, version, dataClass, filledAt: Date.now() };
    this.l1.delete(key);
    this.l1.set(key, line);
    return line;
  }

  /** Map order is recency order: re-insert on use, the first entry is least recently used. */
  private touch(key: string, line: L1Entry<V>): void {
    this.l1.delete(key);
    this.l1.set(key, line);
  }

  private async makeRoom(key: string): Promise<void> {
    const cap = this.opts.l1Capacity ?? 10_000;
    if (this.l1.has(key) || this.l1.size < cap) return;
    let victim: string | undefined;
    for (const k of this.l1.keys()) {
      if (!this.locks.has(k)) {
        victim = k;
        break;
      }
    }
    if (victim === undefined) return;
    this.stats.evictions++;
    await this.withKeyLock(victim, () => this.evictLocked(victim));
  }

  private async evictLocked(key: string): Promise<void> {
    const line = this.l1.get(key);
    if (!line) return;
    // A dirty line is written back before it leaves; flushKey also waits for a flush already in flight.
    await this.buffer.flushKey(key);
    this.l1.delete(key);
    await this.directory.release(key, this.nodeId, "I");
  }

  // --- write-back -------------------------------------------------------------------------------

  private async writeBackMany(entries: ReadonlyArray<readonly [string, V]>): Promise<void> {
    await Promise.all(entries.map(([k, v]) => this.writeBackNow(k, v, "keep")));
  }

  /** After a refused write-back the line is no longer ours: drop it rather than serve or retry it. */
  private loseLine(key: string): void {
    this.stats.lostWritebacks++;
    this.l1.delete(key);
  }

  private async writeBackNow(key: string, value: V, release: "keep" | "S" | "I"): Promise<void> {
    const ver = await this.directory.writeBack(key, this.nodeId, JSON.stringify(value), release);
    if (ver < 0) {
      // Ownership was taken from us (our lease lapsed and a peer force-released): this write is lost.
      // Not thrown: the buffer would put it back and retry forever. `set` reports it for write-through.
      this.loseLine(key);
      return;
    }
    this.stats.writebacks++;
    const line = this.l1.get(key);
    if (line) line.version = ver;
  }

  // --- coherence messages -----------------------------------------------------------------------

  /** Ask the owner to give the line back; if it is gone (lease expired) take ownership from it. */
  private async recall(key: string, owner: string, mode: "S" | "I", attempt: number): Promise<void> {
    if (attempt > 20)
      throw new BackendUnavailableError(`recall of ${key} from ${owner} keeps failing`, { key, owner });
    await this.request(owner, { t: "Recall", key, mode, from: this.nodeId, id: randomUUID() }, async () => {
      await this.directory.forceRelease(key, owner, this.leaseKey(owner));
    });
  }

  /**
   * Publish a message to a peer and wait for its Ack. A peer that is not listening or does not answer
   * in time is checked against its lease: a dead peer is skipped (after `onDead`), a live one retried.
   */
  private async request(
    peer: string,
    msg: Wire & { id: string },
    onDead?: () => Promise<void>,
  ): Promise<void> {
    const timeout = this.opts.requestTimeoutMs ?? 2000;
    // Keep asking while the peer's lease is alive; a crashed peer's lease lapses within leaseMs.
    const deadline = Date.now() + (this.opts.leaseMs ?? 3000) + 3 * timeout;
    for (let attempt = 0; attempt === 0 || Date.now() < deadline; attempt++) {
      const id = attempt === 0 ? msg.id : randomUUID();
      const acked = new Promise<boolean>((resolve) => {
        const timer = setTimeout(() => {
          this.waiting.delete(id);
          resolve(false);
        }, timeout);
        this.waiting.set(id, () => {
          clearTimeout(timer);
          this.waiting.delete(id);
          resolve(true);
        });
      });
      const receivers = await this.redis.publish(this.channel(peer), JSON.stringify({ ...msg, id }));
      if (receivers > 0 && (await acked)) return;
      if (receivers === 0) this.waiting.get(id)?.();
      if (!(await this.isAlive(peer))) {
        await onDead?.();
        return;
      }
      if (receivers === 0) await sleep(Math.min(100, timeout / 4));
    }
    throw new BackendUnavailableError(
      `peer ${peer} did not answer ${msg.t} for ${"key" in msg ? msg.key : "?"}`,
      {
        peer,
      },
    );
  }

  private onWire(raw: string): void {
    let msg: Wire;
    try {
      msg = JSON.parse(raw) as Wire;
    } catch {
      return;
    }
    if (msg.t === "Ack") {
      this.waiting.get(msg.id)?.();
      return;
    }
    if (msg.t === "Inv") {
      // Lock-free on purpose: a writer waits for this ack while it may hold its own key lock.
      this.stats.invalidationsReceived++;
      const line = this.l1.get(msg.key);
      if (line && line.state === "S") this.l1.delete(msg.key);
      const fill = this.pendingFills.get(msg.key);
      if (fill) fill.invalidated = true;
      void this.ack(msg.from, msg.id);
      return;
    }
    if (msg.t === "Recall") {
      void this.withKeyLock(msg.key, () => this.serveRecall(msg.key, msg.mode))
        .catch(() => {})
        .then(() => this.ack(msg.from, msg.id));
    }
  }

  /** Give back ownership: write back dirty data, keep a shared copy for a read recall (M/E -> S). */
  private async serveRecall(key: string, mode: "S" | "I"): Promise<void> {
    this.stats.recallsServed++;
    const line = this.l1.get(key);
    await this.buffer.flushKey(key); // also waits for a write-back of this key already in flight
    await this.directory.release(key, this.nodeId, line ? mode : "I");
    if (!line) return;
    if (mode === "S") line.state = "S";
    else this.l1.delete(key);
  }

  private async ack(to: string, id: string): Promise<void> {
    await this.redis.publish(this.channel(to), JSON.stringify({ t: "Ack", id })).catch(() => 0);
  }

  // --- plumbing ---------------------------------------------------------------------------------

  private dropCleanLines(): void {
    for (const [k, l] of this.l1) if (l.state === "S") this.l1.delete(k);
  }

  private async renewLease(): Promise<void> {
    const started = Date.now();
    const lease = this.opts.leaseMs ?? 3000;
    await this.redis.set(this.leaseKey(this.nodeId), "1", "PX", lease);
    // Keep a third of the lease as margin: after that peers may already treat this node as crashed.
    this.leaseUntil = Math.max(this.leaseUntil, started + (lease * 2) / 3);
  }

  /** An event-loop stall longer than the lease means peers may have skipped us: L1 is not to be trusted. */
  private leaseOk(): boolean {
    return Date.now() < this.leaseUntil;
  }

  private async isAlive(node: string): Promise<boolean> {
    return (await this.redis.exists(this.leaseKey(node))) === 1;
  }

  /** Serialize this node's work on one key (a recall waits for the local write in progress). */
  private withKeyLock<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const prev = this.locks.get(key) ?? Promise.resolve();
    const next = prev.then(fn, fn);
    const tail = next.catch(() => {});
    this.locks.set(key, tail);
    void tail.then(() => {
      if (this.locks.get(key) === tail) this.locks.delete(key);
    });
    return next;
  }

  private checkOpen(key: string): void {
    if (this.closed) throw new InvalidInputError("near cache is closed");
    if (!key) throw new InvalidInputError("empty key");
  }

  /** The client name of this node's pub/sub connection (CLIENT LIST), for operators and fault tests. */
  subscriberName(): string {
    return `${this.opts.prefix}:sub:${this.nodeId}`.replace(/[^A-Za-z0-9:_.-]/g, "_");
  }

  private channel(node: string) {
    return `${this.opts.prefix}:ch:${node}`;
  }
  private leaseKey(node: string) {
    return `${this.opts.prefix}:node:${node}`;
  }
}

function decode<V>(raw: string): V | undefined {
  return raw === "" ? undefined : (JSON.parse(raw) as V);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
