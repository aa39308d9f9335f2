// Distributed locks on one Redis: SET NX PX with a random token, fencing tokens from INCR, compare-and-act
// release/renew, watchdog renewal, and deadlock detection through a wait-for graph kept in Redis.
import { randomUUID } from "node:crypto";
import { hostname } from "node:os";
import {
  BackendUnavailableError,
  DeadlockError,
  InvalidInputError,
  LockNotHeldError,
  LockTimeoutError,
} from "@meridian/core";
import type { LuaScript } from "@meridian/store";
import type { Redis } from "ioredis";
import { backoffDelay, sleep } from "./backoff.js";
import { type LockKeys, lockKeys } from "./keys.js";
import { LockHandle } from "./lock-handle.js";
import { ACQUIRE, CLEAR_WAIT, RELEASE, RENEW, WAIT_FOR } from "./scripts.js";

export interface LockManagerOptions {
  /** Key prefix of this lock space (default "meridian:lock:"). */
  prefix?: string;
  /**
   * The owner every acquisition of this manager acts for (one logical client). Without it, each acquisition
   * is its own owner, so concurrent callers sharing a manager never look like one owner waiting for
   * itself; pass `owner` per acquire (e.g. a transaction id) to get deadlock detection across its locks.
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

export class LockManager {
  readonly keys: LockKeys;
  /** The manager's fixed owner, if it was given one. */
  readonly owner: string | undefined;
  private readonly processId = `${hostname()}:${process.pid}`;
  private readonly opts: Required<Omit<LockManagerOptions, "prefix" | "owner">>;
  /** Lock-key prefix as Redis sees it (ioredis keyPrefix + ours), for keys that Lua scripts build. */
  readonly fullLockPrefix: string;

  constructor(
    readonly redis: Redis,
    options: LockManagerOptions = {},
  ) {
    const prefix = options.prefix ?? "meridian:lock:";
    this.keys = lockKeys(prefix);
    this.fullLockPrefix = (redis.options.keyPrefix ?? "") + this.keys.lockPrefix;
    this.owner = options.owner;
    this.opts = {
      ttlMs: options.ttlMs ?? 30_000,
      waitMs: options.waitMs ?? 10_000,
      watchdog: options.watchdog ?? true,
      minRetryDelayMs: options.minRetryDelayMs ?? 2,
      maxRetryDelayMs: options.maxRetryDelayMs ?? 50,
      detectDeadlocks: options.detectDeadlocks ?? true,
    };
  }

  /** Acquires `resource`, waiting with back-off up to `waitMs`; LockTimeoutError / DeadlockError otherwise. */
  async acquire(resource: string, options: AcquireOptions = {}): Promise<LockHandle> {
    return this.acquireWith(resource, options, (token, ttl) =>
      this.runNumber(
        ACQUIRE,
        [this.keys.lock(resource), this.keys.fence(resource), this.keys.holders],
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

  /** The acquire loop shared by plain and namespace-aware locks. */
  async acquireWith(resource: string, options: AcquireOptions, attempt: AttemptFn): Promise<LockHandle> {
    if (resource.length === 0) throw new InvalidInputError("lock resource must not be empty");
    const ttlMs = options.ttlMs ?? this.opts.ttlMs;
    if (!Number.isInteger(ttlMs) || ttlMs <= 0) throw new InvalidInputError(`bad ttlMs ${ttlMs}`);
    const waitMs = options.waitMs ?? this.opts.waitMs;
    const owner = options.owner ?? this.owner ?? this.newOwnerId();
    const detect = options.detectDeadlocks ?? this.opts.detectDeadlocks;
    const token = `${owner}|${randomUUID()}`;
    const deadline = performance.now() + waitMs;
    let waiting = false;
    try {
      for (let i = 0; ; i++) {
        const sentAt = performance.now();
        const result = await attempt(token, ttlMs);
        if (result > 0) {
          const handle = new LockHandle(this, resource, token, result, owner, ttlMs, sentAt);
          if (options.watchdog ?? this.opts.watchdog) handle.startWatchdog(options.renewIntervalMs);
          return handle;
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
          await this.checkDeadlock(owner, resource, ttlMs);
        }
        await sleep(Math.min(remaining, backoffDelay(i, this.backoff, -result)));
      }
    } finally {
      if (waiting) await this.runNumber(CLEAR_WAIT, [this.keys.waits], [owner]).catch(() => {});
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
    return this.redis.get(this.keys.lock(resource));
  }

  private get backoff() {
    return { minDelayMs: this.opts.minRetryDelayMs, maxDelayMs: this.opts.maxRetryDelayMs };
  }

  private async checkDeadlock(owner: string, resource: string, ttlMs: number): Promise<void> {
    // The wait entry outlives a poll interval comfortably but vanishes soon after a waiter dies.
    const entryTtl = Math.max(1_000, Math.min(ttlMs, 5_000));
    const reply = (await WAIT_FOR.run(
      this.redis,
      [this.keys.waits, this.keys.holders, this.keys.waitSeq],
      [owner, resource, this.fullLockPrefix, entryTtl, 64],
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

  private async runNumber(script: LuaScript, keys: string[], args: (string | number)[]): Promise<number> {
    try {
      return Number(await script.run(this.redis, keys, args));
    } catch (err) {
      throw typedRedisError(err);
    }
  }
}

/** Connection-level Redis failures become BackendUnavailableError; anything else (a script bug) is rethrown. */
function typedRedisError(err: unknown): unknown {
  const m = String((err as Error)?.message ?? err);
  return /ECONNREFUSED|ECONNRESET|EPIPE|ETIMEDOUT|Connection is closed|MaxRetriesPerRequest|Stream isn't writeable|connect/i.test(
    m,
  )
    ? new BackendUnavailableError(`redis: ${m}`, { backend: "redis" })
    : err;
}
