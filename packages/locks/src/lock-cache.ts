// Lock caching by lease delegation (as VMS DLM, Lustre LDLM and Chubby do): a node takes a lock in
// Redis once, as a lease that also reserves a block of fencing tokens, then grants it to its local callers
// one at a time with no round trip. It gives the lease back when another node asks (a revoke over
// pub/sub), after it sat idle, or on close. Every grant gets the next token of the block, and the next
// lease anywhere starts above the block, so the data store sees strictly increasing tokens per grant.
// Deadlocks: local cycles are found here; cycles between nodes by the Redis wait-for graph, at node
// granularity (the lease's owner is the node), entered only while a waiting task holds another grant.
import { BackendUnavailableError, DeadlockError, InvalidInputError, LockTimeoutError } from "@meridian/core";
import { withDeadline } from "@meridian/store";
import type { Redis } from "ioredis";
import { CachedLock, type LocalRelease } from "./cached-lock.js";
import { ownerOfToken } from "./keys.js";
import type { LockHandle } from "./lock-handle.js";
import type { LockManager } from "./lock-manager.js";
import { currentLockOwner } from "./lock-owner.js";
import { ACQUIRE, RESERVE_FENCES } from "./scripts.js";

export interface LockCacheOptions {
  /** This node's owner id in Redis (default: a fresh host:pid:random id from the manager). */
  nodeId?: string;
  /** Ttl of the Redis lease, renewed by its watchdog (default 10 000 ms). */
  leaseTtlMs?: number;
  /** Give an unused lease back after this long (default 200 ms). */
  idleReleaseMs?: number;
  /** Fencing tokens reserved per Redis round trip (default 1024). */
  fenceBlock?: number;
  /** Default bound on waiting for a grant (default 10 000 ms). */
  waitMs?: number;
  /** Bound on one Redis command of the cache itself (default 1000 ms). */
  commandTimeoutMs?: number;
}

export interface CachedAcquireOptions {
  waitMs?: number;
  /** The task this grant acts for (local deadlock detection); default ambient owner, else per grant. */
  owner?: string;
}

interface Waiter {
  owner: string;
  resolve(lock: CachedLock): void;
  reject(err: Error): void;
  timer: NodeJS.Timeout;
}

interface Entry {
  resource: string;
  lease: LockHandle | undefined;
  /** Next unused fencing token of the reserved block, and the end of the block (exclusive). */
  next: number;
  end: number;
  holder: CachedLock | undefined;
  queue: Waiter[];
  /** Another node asked for the lock: give it back as soon as no local grant holds it. */
  revoke: boolean;
  busy: Promise<void> | undefined;
  idle: NodeJS.Timeout | undefined;
  /** After giving a lease back on request, this node does not ask again before this time (fairness). */
  holdOffUntil: number;
}

/** Longest single wait for a lease before the deadlock-detection decision is taken again. */
const LEASE_WAIT_SLICE_MS = 1_000;

/** Pause before re-asking for a lease just given back on request, so the asking node gets it first. */
const HOLD_OFF_MS = 20;

export class LockCache implements LocalRelease {
  readonly nodeId: string;
  private readonly entries = new Map<string, Entry>();
  /** Local wait-for edges: owner -> resource it waits for. */
  private readonly waitsFor = new Map<string, string>();
  /** Local grants held per owner: only a task that holds something can be part of a deadlock. */
  private readonly heldBy = new Map<string, number>();
  private readonly opts: Required<Omit<LockCacheOptions, "nodeId">>;
  private closed = false;
  private grantSeq = 0;
  readonly stats = {
    localGrants: 0,
    leasesTaken: 0,
    leasesGivenBack: 0,
    revokesReceived: 0,
    blocksReserved: 0,
  };

  private constructor(
    private readonly manager: LockManager,
    private readonly sub: Redis,
    options: LockCacheOptions,
  ) {
    this.nodeId = options.nodeId ?? manager.newOwnerId();
    if (this.nodeId.includes("|")) throw new InvalidInputError("nodeId must not contain '|'");
    this.opts = {
      leaseTtlMs: options.leaseTtlMs ?? 10_000,
      idleReleaseMs: options.idleReleaseMs ?? 200,
      fenceBlock: options.fenceBlock ?? 1024,
      waitMs: options.waitMs ?? 10_000,
      commandTimeoutMs: options.commandTimeoutMs ?? 1_000,
    };
    const { fenceBlock, leaseTtlMs } = this.opts;
    if (!Number.isInteger(fenceBlock) || fenceBlock < 1 || fenceBlock > 65_536)
      throw new InvalidInputError("fenceBlock must be an integer in 1..65536", { fenceBlock });
    if (!Number.isInteger(leaseTtlMs) || leaseTtlMs <= 0)
      throw new InvalidInputError("leaseTtlMs must be a positive integer", { leaseTtlMs });
  }

  /** Starts a cache over `manager` and listens for revokes on its own pub/sub connection. */
  static async start(manager: LockManager, options: LockCacheOptions = {}): Promise<LockCache> {
    // Subscriber connections skip ioredis's handshake commands, which Redis refuses in subscriber mode.
    const sub = manager.redis.duplicate({ enableReadyCheck: false, disableClientInfo: true });
    sub.on("error", () => {});
    const cache = new LockCache(manager, sub, options);
    sub.on("message", (_ch: string, resource: string) => cache.onRevoke(resource));
    try {
      await withDeadline(
        "redis",
        "subscribe",
        cache.opts.commandTimeoutMs,
        sub.subscribe(cache.channel(cache.nodeId)),
      );
    } catch (err) {
      sub.disconnect();
      throw err;
    }
    return cache;
  }

  /** A local grant of `resource`; LockTimeoutError / DeadlockError / BackendUnavailableError otherwise. */
  acquire(resource: string, options: CachedAcquireOptions = {}): Promise<CachedLock> {
    if (this.closed) return Promise.reject(new InvalidInputError("lock cache is closed"));
    if (resource.length === 0)
      return Promise.reject(new InvalidInputError("lock resource must not be empty"));
    // Without an owner each grant is its own task (a counter: cheaper than a UUID on the hot path).
    const owner = options.owner ?? currentLockOwner() ?? `${this.nodeId}#${++this.grantSeq}`;
    const e = this.entry(resource);
    // The hot path: lease held, nobody ahead, tokens left: no round trip, no timer.
    if (!e.holder && e.queue.length === 0 && !e.revoke && e.next < e.end && e.lease?.isHeld()) {
      return Promise.resolve(this.grant(e, owner));
    }
    return new Promise<CachedLock>((resolve, reject) => {
      const waitMs = options.waitMs ?? this.opts.waitMs;
      const w: Waiter = {
        owner,
        resolve,
        reject,
        timer: setTimeout(() => {
          this.dropWaiter(e, w);
          reject(
            new LockTimeoutError(`lock ${resource} not granted within ${waitMs} ms`, { resource, waitMs }),
          );
        }, waitMs),
      };
      try {
        this.checkLocalDeadlock(owner, resource);
      } catch (err) {
        clearTimeout(w.timer);
        reject(err as Error);
        return;
      }
      e.queue.push(w);
      this.pump(e);
    });
  }

  /** Gives every lease back and fails every waiter; the cache cannot be used afterwards. */
  async close(): Promise<void> {
    this.closed = true;
    const err = new InvalidInputError("lock cache is closed");
    for (const e of this.entries.values()) {
      for (const w of e.queue.splice(0)) this.fail(w, err);
      if (e.idle) clearTimeout(e.idle);
      if (e.busy) await e.busy.catch(() => {});
      if (e.holder) e.holder.markLost(err);
      e.holder = undefined;
      await this.giveBack(e);
    }
    await withDeadline("redis", "quit", this.opts.commandTimeoutMs, this.sub.quit()).catch(() =>
      this.sub.disconnect(),
    );
  }

  releaseLocal(lock: CachedLock): void {
    const e = this.entries.get(lock.resource);
    if (!e || e.holder !== lock) return;
    e.holder = undefined;
    const n = (this.heldBy.get(lock.owner) ?? 1) - 1;
    if (n > 0) this.heldBy.set(lock.owner, n);
    else this.heldBy.delete(lock.owner);
    this.pump(e);
  }

  // --- granting -----------------------------------------------------------------------------------

  private entry(resource: string): Entry {
    let e = this.entries.get(resource);
    if (!e) {
      e = {
        resource,
        lease: undefined,
        next: 0,
        end: 0,
        holder: undefined,
        queue: [],
        revoke: false,
        busy: undefined,
        idle: undefined,
        holdOffUntil: 0,
      };
      this.entries.set(resource, e);
    }
    return e;
  }

  private grant(e: Entry, owner: string): CachedLock {
    const lock = new CachedLock(this, e.resource, e.next++, owner, e.lease!);
    e.holder = lock;
    this.heldBy.set(owner, (this.heldBy.get(owner) ?? 0) + 1);
    this.waitsFor.delete(owner);
    this.stats.localGrants++;
    if (e.idle) {
      clearTimeout(e.idle);
      e.idle = undefined;
    }
    return lock;
  }

  /** Moves the entry one step on: grant, give back, take or extend the lease, or arm the idle timer. */
  private pump(e: Entry): void {
    if (e.holder || e.busy || this.closed) return;
    if (e.lease && !e.lease.isHeld()) e.lease = undefined; // expired or lost: its tokens are void too
    if (e.lease && (e.revoke || e.queue.length === 0)) {
      if (e.revoke) {
        this.runBusy(e, () => this.giveBack(e, true));
        return;
      }
      if (!e.idle) {
        e.idle = setTimeout(() => {
          e.idle = undefined;
          if (!e.holder && e.queue.length === 0) this.runBusy(e, () => this.giveBack(e));
        }, this.opts.idleReleaseMs);
        e.idle.unref();
      }
      return;
    }
    if (e.queue.length === 0) return;
    if (!e.lease) {
      const wait = e.holdOffUntil - performance.now();
      if (wait > 0) {
        setTimeout(() => this.pump(e), wait).unref();
        return;
      }
      this.runBusy(e, () => this.takeLease(e));
      return;
    }
    if (e.next >= e.end) {
      this.runBusy(e, () => this.reserveBlock(e));
      return;
    }
    const w = e.queue.shift()!;
    clearTimeout(w.timer);
    w.resolve(this.grant(e, w.owner));
  }

  private runBusy(e: Entry, step: () => Promise<void>): void {
    e.busy = step()
      .catch((err: unknown) => {
        for (const w of e.queue.splice(0)) this.fail(w, err as Error);
      })
      .finally(() => {
        e.busy = undefined;
        this.pump(e);
      });
  }

  // --- the lease in Redis -------------------------------------------------------------------------

  private async takeLease(e: Entry): Promise<void> {
    // The node enters the Redis wait-for graph only while a waiter holds another grant: a task holding
    // nothing closes no cycle, and a node-level edge for it would report cycles that resolve by
    // themselves (each node giving back a lease nobody holds). Waits go in slices so this is re-decided.
    const detectDeadlocks = e.queue.some((w) => this.heldBy.has(w.owner));
    try {
      const lease = await this.manager.acquireWith(
        e.resource,
        {
          owner: this.nodeId,
          ttlMs: this.opts.leaseTtlMs,
          waitMs: Math.min(this.opts.waitMs, LEASE_WAIT_SLICE_MS),
          watchdog: true,
          detectDeadlocks,
        },
        (token, ttlMs) => this.leaseAttempt(e.resource, token, ttlMs),
      );
      e.lease = lease;
      e.next = lease.fence;
      e.end = lease.fence + this.opts.fenceBlock;
      e.revoke = false;
      this.stats.leasesTaken++;
      lease.onLost((err) => {
        if (e.lease === lease) e.lease = undefined;
        e.holder?.markLost(err);
      });
    } catch (err) {
      // Waiters time out by their own timers; anything else (deadlock, Redis down) fails them all now.
      if (!(err instanceof LockTimeoutError)) throw err;
    }
  }

  /** One acquire attempt that reserves a block of tokens; while refused, asks the holder to give it back. */
  private async leaseAttempt(resource: string, token: string, ttlMs: number): Promise<number> {
    const k = this.manager.keys;
    const r = Number(
      await ACQUIRE.run(
        this.manager.redis,
        [k.lock(resource), k.fence(resource), k.holders, k.epoch],
        [token, ttlMs, resource, this.opts.fenceBlock],
      ),
    );
    if (r < 0) void this.askToGiveBack(resource).catch(() => {});
    return r;
  }

  private async askToGiveBack(resource: string): Promise<void> {
    const holder = await this.manager.holderToken(resource);
    if (holder) await this.manager.redis.publish(this.channel(ownerOfToken(holder)), resource);
  }

  private async reserveBlock(e: Entry): Promise<void> {
    const lease = e.lease!;
    const k = this.manager.keys;
    const first = Number(
      await withDeadline(
        "redis",
        "reserve fencing tokens",
        this.opts.commandTimeoutMs,
        RESERVE_FENCES.run(
          this.manager.redis,
          [k.lock(e.resource), k.fence(e.resource), k.epoch],
          [lease.token, this.opts.fenceBlock],
        ),
      ).catch((err: unknown) => {
        throw err instanceof BackendUnavailableError
          ? err
          : new BackendUnavailableError(`redis: ${(err as Error).message}`, { backend: "redis" });
      }),
    );
    if (first > 0) {
      e.next = first;
      e.end = first + this.opts.fenceBlock;
      this.stats.blocksReserved++;
      return;
    }
    // Lost (-1), or a new fencing epoch is needed (0): give the lease back; the next one starts afresh.
    await this.giveBack(e);
  }

  private async giveBack(e: Entry, onRequest = false): Promise<void> {
    const lease = e.lease;
    e.lease = undefined;
    e.revoke = false;
    e.next = e.end = 0;
    if (onRequest) e.holdOffUntil = performance.now() + HOLD_OFF_MS;
    if (!lease) return;
    this.stats.leasesGivenBack++;
    await lease.release().catch(() => {}); // an expired lease is already free
  }

  private onRevoke(resource: string): void {
    const e = this.entries.get(resource);
    if (!e?.lease) return;
    this.stats.revokesReceived++;
    e.revoke = true;
    this.pump(e);
  }

  // --- waiting ------------------------------------------------------------------------------------

  /** Local wait-for graph: does `owner` waiting for `resource` close a cycle among local grants? */
  private checkLocalDeadlock(owner: string, resource: string): void {
    const path = [owner];
    let r: string | undefined = resource;
    for (let depth = 0; r !== undefined && depth < 64; depth++) {
      const holder = this.entries.get(r)?.holder?.owner;
      if (holder === undefined) break;
      if (holder === owner) {
        if (path.length === 1) break; // its own grant, directly: it waits for its own release
        throw new DeadlockError(
          `deadlock waiting for ${resource}: cycle ${path.join(" -> ")}; victim ${owner}`,
          {
            resource,
            cycle: path,
            victim: owner,
          },
        );
      }
      path.push(holder);
      r = this.waitsFor.get(holder);
    }
    this.waitsFor.set(owner, resource);
  }

  private dropWaiter(e: Entry, w: Waiter): void {
    const i = e.queue.indexOf(w);
    if (i >= 0) e.queue.splice(i, 1);
    this.waitsFor.delete(w.owner);
  }

  private fail(w: Waiter, err: Error): void {
    clearTimeout(w.timer);
    this.waitsFor.delete(w.owner);
    w.reject(err);
  }

  private channel(node: string): string {
    return `${this.manager.keys.lockPrefix}lease:${node}`;
  }
}
