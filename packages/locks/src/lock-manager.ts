// Distributed locks on one Redis: SET NX PX with a random token, durable fencing tokens (epoch from a
// durable source + per-lock counter in Redis), compare-and-act release/renew, watchdog renewal, deadlock
// detection through a wait-for graph kept in Redis. Every Redis call is bounded by a deadline.
import { randomUUID } from "node:crypto";
import { hostname } from "node:os";
import {
  BackendUnavailableError,
  DeadlockError,
  InvalidInputError,
  LockNotHeldError,
  LockTimeoutError,
} from "@meridian/core";
import { type LuaScript, typedBackendError, withDeadline } from "@meridian/store";
import type { Redis } from "ioredis";
import { backoffDelay, sleep } from "./backoff.js";
import { clockFenceEpochs, type FenceEpochSource } from "./fence-epochs.js";
import { type LockKeys, lockKeys } from "./keys.js";
import { LockHandle } from "./lock-handle.js";
import { currentLockOwner } from "./lock-owner.js";
import { ACQUIRE, CLEAR_WAIT, RELEASE, RENEW, SET_EPOCH, WAIT_FOR } from "./scripts.js";

export interface LockManagerOptions {
  /** Key prefix of this lock space (default "meridian:lock:"). */
  prefix?: string;
  /**
   * The owner every acquisition of this manager acts for. Default: the ambient owner (withLockOwner) of
   * the calling context, else one id per manager (this client).
   */
  owner?: string;
  /** Default ttl (default 30 000 ms, as Redisson). */
  ttlMs?: number;
  /** Default bound on waiting (default 10 000 ms). */
  waitMs?: number;
  /** Start a watchdog by default (default true), renewing every ttl/3. */
  watchdog?: boolean;
  /** Back-off between attempts (default 2..50 ms with jitter). */
  minRetryDelayMs?: number;
  maxRetryDelayMs?: number;
  /** Check the wait-for graph while waiting (default true). */
  detectDeadlocks?: boolean;
  /**
   * Where fencing epochs come from. Pass `pgFenceEpochs(pool)` for tokens that stay monotonic across any
   * loss of Redis state; the default (`clockFenceEpochs`) relies on the wall clock never stepping back.
   */
  fenceEpochs?: FenceEpochSource;
  /** Bound on one Redis command (default 1000 ms); a frozen Redis fails with BackendUnavailableError. */
  commandTimeoutMs?: number;
  /** Bound on drawing a new epoch from the source (default 3000 ms). */
  epochTimeoutMs?: number;
}

export interface AcquireOptions {
  ttlMs?: number;
  /** 0 = try once. */
  waitMs?: number;
  watchdog?: boolean;
  /** Watchdog period (default ttl/3). */
  renewIntervalMs?: number;
  owner?: string;
  detectDeadlocks?: boolean;
}

/** How one attempt is made: plain lock, or a namespace-aware variant (escalation). */
export type AttemptFn = (token: string, ttlMs: number) => Promise<number>;

/** A timed-out attempt still gets this long, so a short waitMs does not turn a slow reply into an error. */
const MIN_ATTEMPT_MS = 250;

export class LockManager {
  readonly keys: LockKeys;
  /** The manager's fixed owner, if it was given one. */
  readonly owner: string | undefined;
  /** This client's owner id when neither an explicit nor an ambient owner is given. */
  readonly clientOwner: string;
  private readonly processId = `${hostname()}:${process.pid}`;
  private readonly opts: Required<Omit<LockManagerOptions, "prefix" | "owner" | "fenceEpochs">>;
  private readonly epochs: FenceEpochSource;
  private epochRefresh: Promise<void> | undefined;
  /** Lock-key prefix as Redis sees it (ioredis keyPrefix + ours), for keys that Lua scripts build. */
  readonly fullLockPrefix: string;
  /** Namespace of this lock space at the epoch source. */
  readonly epochNamespace: string;

  constructor(
    readonly redis: Redis,
    options: LockManagerOptions = {},
  ) {
    const prefix = options.prefix ?? "meridian:lock:";
    this.keys = lockKeys(prefix);
    this.fullLockPrefix = (redis.options.keyPrefix ?? "") + this.keys.lockPrefix;
    this.epochNamespace = (redis.options.keyPrefix ?? "") + prefix;
    this.owner = options.owner;
    this.clientOwner = options.owner ?? this.newOwnerId();
    this.epochs = options.fenceEpochs ?? clockFenceEpochs();
    this.opts = {
      ttlMs: options.ttlMs ?? 30_000,
      waitMs: options.waitMs ?? 10_000,
      watchdog: options.watchdog ?? true,
      minRetryDelayMs: options.minRetryDelayMs ?? 2,
      maxRetryDelayMs: options.maxRetryDelayMs ?? 50,
      detectDeadlocks: options.detectDeadlocks ?? true,
      commandTimeoutMs: options.commandTimeoutMs ?? 1_000,
      epochTimeoutMs: options.epochTimeoutMs ?? 3_000,
    };
  }

  /** True when fencing tokens come from a durable epoch source. */
  get durableFencing(): boolean {
    return this.epochs.durable;
  }

  /** Acquires `resource`, waiting with back-off up to `waitMs`; LockTimeoutError / DeadlockError otherwise. */
  async acquire(resource: string, options: AcquireOptions = {}): Promise<LockHandle> {
    return this.acquireWith(resource, options, (token, ttl) =>
      this.runNumber(
        ACQUIRE,
        [this.keys.lock(resource), this.keys.fence(resource), this.keys.holders, this.keys.epoch],
        [token, ttl, resource],
      ),
    );
  }

  /** Single attempt; undefined when the lock is busy. */
  async tryAcquire(
    resource: string,
    options: Omit<AcquireOptions, "waitMs"> = {},
  ): Promise<LockHandle | undefined> {
    try {
      return await this.acquire(resource, { ...options, waitMs: 0 });
    } catch (err) {
      if (err instanceof LockTimeoutError) return undefined;
      throw err;
    }
  }

  /** The owner an acquisition acts for: explicit, else ambient (withLockOwner), else this client. */
  resolveOwner(explicit?: string): string {
    return explicit ?? currentLockOwner() ?? this.clientOwner;
  }

  /** The acquire loop shared by plain and namespace-aware locks. */
  async acquireWith(resource: string, options: AcquireOptions, attempt: AttemptFn): Promise<LockHandle> {
    if (resource.length === 0) throw new InvalidInputError("lock resource must not be empty");
    const ttlMs = options.ttlMs ?? this.opts.ttlMs;
    if (!Number.isInteger(ttlMs) || ttlMs <= 0) throw new InvalidInputError(`bad ttlMs ${ttlMs}`);
    const waitMs = options.waitMs ?? this.opts.waitMs;
    const owner = this.resolveOwner(options.owner);
    const detect = options.detectDeadlocks ?? this.opts.detectDeadlocks;
    const token = `${owner}|${randomUUID()}`;
    const deadline = performance.now() + waitMs;
    let waiting = false;
    try {
      for (let i = 0; ; i++) {
        const sentAt = performance.now();
        const result = await this.bounded(deadline, `acquire ${resource}`, attempt(token, ttlMs)).catch(
          (err: unknown) => {
            // The attempt may still run once Redis answers: queue a release behind it on the same connection.
            if (err instanceof BackendUnavailableError) void this.release(resource, token).catch(() => {});
            throw err;
          },
        );
        if (result > 0) {
          const handle = new LockHandle(this, resource, token, result, owner, ttlMs, sentAt);
          if (options.watchdog ?? this.opts.watchdog) handle.startWatchdog(options.renewIntervalMs);
          return handle;
        }
        if (result === 0) {
          await this.refreshEpoch(deadline);
          continue;
        }
        const remaining = deadline - performance.now();
        if (remaining <= 0) {
          throw new LockTimeoutError(`lock ${resource} not acquired within ${waitMs} ms`, {
            resource,
            waitMs,
          });
        }
        if (detect) {
          waiting = true;
          await this.checkDeadlock(owner, resource, ttlMs, deadline);
        }
        await sleep(Math.min(remaining, backoffDelay(i, this.backoff, -result)));
      }
    } finally {
      if (waiting) void this.runNumber(CLEAR_WAIT, [this.keys.waits], [owner]).catch(() => {});
    }
  }

  /** A fresh owner id (host:pid:random) for a logical client of this process. */
  newOwnerId(): string {
    return `${this.processId}:${randomUUID().slice(0, 12)}`;
  }

  /** Compare-and-extend; LockNotHeldError if the token no longer holds the lock. */
  async renew(resource: string, token: string, ttlMs: number): Promise<void> {
    const ok = await this.runNumber(RENEW, [this.keys.lock(resource)], [token, ttlMs]);
    if (ok !== 1) throw new LockNotHeldError(`lock ${resource} is not held by this token`, { resource });
  }

  /** Compare-and-delete; LockNotHeldError if the token no longer holds the lock. */
  async release(resource: string, token: string): Promise<void> {
    const ok = await this.runNumber(
      RELEASE,
      [this.keys.lock(resource), this.keys.holders],
      [token, resource],
    );
    if (ok !== 1) throw new LockNotHeldError(`lock ${resource} is not held by this token`, { resource });
  }

  /** Current holder token of `resource`, if any (diagnostics and tests). */
  async holderToken(resource: string): Promise<string | null> {
    return this.call("GET", this.redis.get(this.keys.lock(resource)));
  }

  private get backoff() {
    return { minDelayMs: this.opts.minRetryDelayMs, maxDelayMs: this.opts.maxRetryDelayMs };
  }

  /** One in-flight epoch refresh per manager; concurrent acquirers wait for it. */
  private refreshEpoch(deadline: number): Promise<void> {
    this.epochRefresh ??= this.installEpoch(deadline).finally(() => {
      this.epochRefresh = undefined;
    });
    return this.epochRefresh;
  }

  /**
   * Observes the server incarnation, THEN draws a larger epoch, then installs it only if the server is
   * still that incarnation: an epoch drawn before a restart can never be used after it.
   */
  private async installEpoch(deadline: number): Promise<void> {
    const info = await this.bounded(deadline, "INFO server", this.redis.info("server"));
    const runId = /run_id:([0-9a-f]+)/.exec(info)?.[1];
    if (!runId) throw new BackendUnavailableError("redis: INFO gave no run_id", { backend: "redis" });
    const epoch = await withDeadline(
      "postgres",
      "fencing epoch",
      this.opts.epochTimeoutMs,
      this.epochs.next(this.epochNamespace),
    ).catch((err: unknown) => {
      if (err instanceof BackendUnavailableError || err instanceof InvalidInputError) throw err;
      throw new BackendUnavailableError(`fencing epoch source failed: ${(err as Error).message}`, {
        backend: "postgres",
      });
    });
    await this.bounded(deadline, "set epoch", SET_EPOCH.run(this.redis, [this.keys.epoch], [epoch, runId]));
  }

  private async checkDeadlock(owner: string, resource: string, ttlMs: number, deadline: number) {
    // The wait entry outlives a poll interval comfortably but vanishes soon after a waiter dies.
    const entryTtl = Math.max(1_000, Math.min(ttlMs, 5_000));
    const reply = (await this.bounded(
      deadline,
      "wait-for graph",
      WAIT_FOR.run(
        this.redis,
        [this.keys.waits, this.keys.holders, this.keys.waitSeq],
        [owner, resource, this.fullLockPrefix, entryTtl, 64],
      ),
    )) as (number | string)[];
    if (reply[0] === 1 && reply[1] === owner) {
      const cycle = reply.slice(2).map(String);
      throw new DeadlockError(
        `deadlock waiting for ${resource}: cycle ${cycle.join(" -> ")}; victim ${owner}`,
        {
          resource,
          cycle,
          victim: owner,
        },
      );
    }
  }

  /** Bounds a call by the acquire deadline (at least MIN_ATTEMPT_MS, at most one command timeout). */
  private bounded<T>(deadline: number, what: string, call: Promise<T>): Promise<T> {
    const budget = Math.min(
      this.opts.commandTimeoutMs,
      Math.max(MIN_ATTEMPT_MS, deadline - performance.now()),
    );
    return withDeadline(
      "redis",
      what,
      budget,
      call.catch((err: unknown) => Promise.reject(typedBackendError(err, "redis"))),
    );
  }

  private call<T>(what: string, call: Promise<T>): Promise<T> {
    return withDeadline(
      "redis",
      what,
      this.opts.commandTimeoutMs,
      call.catch((err: unknown) => Promise.reject(typedBackendError(err, "redis"))),
    );
  }

  private async runNumber(script: LuaScript, keys: string[], args: (string | number)[]): Promise<number> {
    return Number(await this.call(script.name, script.run(this.redis, keys, args)));
  }
}
