// StrongConsistencyCache: linearizable reads and writes of critical data (balances, orders).
// PostgreSQL is the source of truth; each region keeps a Redis copy. A write (1) locks and bumps the row
// inside a transaction, (2) invalidates every region's copy and voids its leases, marking the key
// "being written" so nobody refills it, (3) commits, (4) writes the new version through to the local
// region and clears the markers. A read serves the local copy, or on a miss takes a memcache-style lease,
// reads PostgreSQL and fills — refused if a write voided the lease meanwhile.
import { randomUUID } from "node:crypto";
import {
  InvalidInputError,
  LockNotHeldError,
  parseRegion,
  REGIONS,
  type ReadBound,
  type Region,
  StalenessBoundError,
} from "@meridian/core";
import {
  type AcquireOptions,
  currentLockOwner,
  type LockHandle,
  LockManager,
  pgFenceEpochs,
} from "@meridian/locks";
import { withDeadline } from "@meridian/store";
import type { Redis } from "ioredis";
import type pg from "pg";
import { type GroupCommitOptions, GroupCommitter, type GroupStats } from "./group-commit.js";
import { RegionCache } from "./region-cache.js";
import type { StrongSession } from "./session.js";
import { type Fence, type Row, StrongTable } from "./strong-table.js";
import {
  checkKey,
  checkLockHandle,
  checkLockOptions,
  checkReadOptions,
  checkTtlMs,
  type Limits,
  serialize,
} from "./validate.js";
import { typedError } from "./write-budget.js";
import { WriteProtocol } from "./write-protocol.js";

export interface StrongCacheOptions {
  /** The region this instance serves reads from. */
  region: Region;
  /** Other regions' Redis copies; every write invalidates them before it is acknowledged. */
  peers?: Partial<Record<Region, Redis>>;
  /** Prefix of every cache key in every region (default "meridian:strong:"). */
  keyPrefix?: string;
  /** PostgreSQL table (default "meridian_strong"; resolved through the pool's search_path). */
  table?: string;
  /** Lock manager for lockKey arguments (default: one on `redis` under `<keyPrefix>lock:`). */
  locks?: LockManager;
  lockDefaults?: AcquireOptions;
  maxKeyLength?: number;
  /** Largest serialized value accepted (default 1 MiB). */
  maxValueBytes?: number;
  /** Lease lifetime: how long a reader may take between miss and fill (default 2000 ms). */
  leaseTtlMs?: number;
  /** How often a reader retries when another reader holds the lease, before reading the DB (default 2 x 2 ms). */
  leaseRetries?: number;
  leaseRetryDelayMs?: number;
  /** Lifetime of a "being written" marker: an upper bound on a write's commit (default 30 000 ms). */
  pendingTtlMs?: number;
  /** Lifetime of a cached copy (default 24 h; 0 = no expiry). */
  entryTtlMs?: number;
  /** Bound on one Redis call (default 1000 ms): a frozen Redis fails the operation with BackendUnavailableError. */
  redisTimeoutMs?: number;
  /** Bound on one PostgreSQL statement, server- and client-side (default 3000 ms). */
  pgTimeoutMs?: number;
  /**
   * Bound on a whole write from checkout to COMMIT (default 5000 ms; must stay below pendingTtlMs so a
   * marker outlives the write it announces). Past it the transaction is rolled back.
   */
  writeTimeoutMs?: number;
  /**
   * Group commit of `setWithStrongConsistency` (default on): concurrent sets on this instance share one
   * transaction and one invalidation round trip per region; `false` gives every set its own transaction.
   * CAS and transactions always run alone.
   */
  groupCommit?: boolean | GroupCommitOptions;
}

/** maxAgeMs: a cached copy loaded longer ago is bypassed for PostgreSQL; minVersion: the key's version. */
export interface ReadOptions extends ReadBound<number> {
  /** Read-your-writes across regions: the read is at least as new as anything the session saw. */
  session?: StrongSession;
  /** Read while holding this lock (acquired before the read, released after it). */
  lock?: string;
}

export interface StrongRead<T> {
  /** undefined when the key does not exist (version 0). */
  value: T | undefined;
  version: number;
  /** Region whose cache or database answered. */
  region: Region;
  /** How long ago the served copy was loaded into the regional cache (0 = read from PostgreSQL now). */
  ageMs: number;
  source: "cache" | "database";
}

export interface WriteResult {
  version: number;
  region: Region;
  /** Fencing token the write carried, if it was done under a lock. */
  fence?: number;
}

export interface CasResult<T> extends WriteResult {
  ok: boolean;
  /** Current value when the comparison failed. */
  current?: T;
}

export interface TxnView {
  get<T = unknown>(key: string): T | undefined;
  version(key: string): number;
  set(key: string, value: unknown): void;
}

export interface TxnResult<R> {
  result: R;
  /** Versions after the transaction, for every declared key. */
  versions: Record<string, number>;
  /** Keys the transaction wrote. */
  written: string[];
}

type LockArg = string | LockHandle | undefined;

export class StrongConsistencyCache {
  readonly region: Region;
  readonly locks: LockManager;
  readonly table: StrongTable;
  private readonly local: RegionCache;
  private readonly writes: WriteProtocol;
  private readonly group: GroupCommitter | undefined;
  private readonly limits: Limits;
  private readonly o: Required<
    Pick<
      StrongCacheOptions,
      | "leaseTtlMs"
      | "leaseRetries"
      | "leaseRetryDelayMs"
      | "pendingTtlMs"
      | "entryTtlMs"
      | "redisTimeoutMs"
      | "pgTimeoutMs"
      | "writeTimeoutMs"
    >
  >;
  private readonly lockDefaults: AcquireOptions;
  /** This client's lock owner (deadlock detection) when the caller sets none (withLockOwner / owner). */
  private readonly lockOwner: string;

  constructor(redis: Redis, db: pg.Pool, options: StrongCacheOptions) {
    const prefix = options.keyPrefix ?? "meridian:strong:";
    // Options may come from untyped callers (JavaScript, parsed config): check region names at the door.
    this.region = parseRegion(options.region, REGIONS);
    const redisTimeoutMs = options.redisTimeoutMs ?? 1_000;
    this.local = new RegionCache(this.region, redis, prefix, redisTimeoutMs);
    const remotes = Object.entries(options.peers ?? {})
      .filter(([r, c]) => r !== this.region && c !== undefined)
      .map(([r, c]) => new RegionCache(parseRegion(r, REGIONS, "peers"), c as Redis, prefix, redisTimeoutMs));
    this.table = new StrongTable(db, options.table);
    // Fencing epochs from PostgreSQL: tokens stay monotonic even if the lock Redis loses its data.
    this.locks =
      options.locks ?? new LockManager(redis, { prefix: `${prefix}lock:`, fenceEpochs: pgFenceEpochs(db) });
    this.lockOwner = this.locks.newOwnerId();
    this.lockDefaults = options.lockDefaults ?? {};
    this.limits = {
      maxKeyLength: options.maxKeyLength ?? 1024,
      maxValueBytes: options.maxValueBytes ?? 1 << 20,
    };
    this.o = {
      leaseTtlMs: options.leaseTtlMs ?? 2_000,
      leaseRetries: options.leaseRetries ?? 2,
      leaseRetryDelayMs: options.leaseRetryDelayMs ?? 2,
      pendingTtlMs: options.pendingTtlMs ?? 30_000,
      entryTtlMs: options.entryTtlMs ?? 86_400_000,
      redisTimeoutMs,
      pgTimeoutMs: options.pgTimeoutMs ?? 3_000,
      writeTimeoutMs: options.writeTimeoutMs ?? 5_000,
    };
    this.writes = new WriteProtocol(db, this.local, remotes, this.o);
    const group = options.groupCommit ?? true;
    this.group =
      group === false
        ? undefined
        : new GroupCommitter(this.table, this.writes, this.o.writeTimeoutMs, group === true ? {} : group);
    for (const [name, v] of Object.entries(this.o)) {
      if (typeof v === "number" && !(Number.isFinite(v) && v >= 0)) {
        throw new InvalidInputError(`${name} must be a finite number >= 0`, { [name]: v });
      }
    }
    if (this.o.writeTimeoutMs >= this.o.pendingTtlMs) {
      throw new InvalidInputError(
        "writeTimeoutMs must be below pendingTtlMs (a marker must outlive its write)",
        {
          writeTimeoutMs: this.o.writeTimeoutMs,
          pendingTtlMs: this.o.pendingTtlMs,
        },
      );
    }
  }

  /** Creates the PostgreSQL table if needed. */
  async init(): Promise<void> {
    await this.table.ensureSchema();
  }

  // ---- reads -------------------------------------------------------------------------------------------

  /** Linearizable read. With `options.lock`, the read happens while holding that lock. */
  async getWithStrongConsistency<T = unknown>(
    key: string,
    options: ReadOptions = {},
    ...extra: never[]
  ): Promise<StrongRead<T>> {
    checkReadOptions("getWithStrongConsistency", options, extra.length);
    checkKey(key, this.limits);
    if (options.lock !== undefined) {
      const h = await this.acquireLock(options.lock);
      try {
        return await this.read<T>(key, options);
      } finally {
        await h.release().catch(() => {});
      }
    }
    return this.read<T>(key, options);
  }

  private async read<T>(key: string, opts: ReadOptions): Promise<StrongRead<T>> {
    const minVersion = Math.max(opts.minVersion ?? 0, opts.session?.minVersion(key) ?? 0);
    const result = await this.readFresh<T>(key, opts.maxAgeMs, minVersion);
    if (result.version < minVersion) {
      throw new StalenessBoundError(
        `key ${key} is at version ${result.version}, below the required ${minVersion}`,
        {
          key,
          version: result.version,
          minVersion,
        },
      );
    }
    opts.session?.observe(key, result.version);
    return result;
  }

  private async readFresh<T>(
    key: string,
    maxAgeMs: number | undefined,
    minVersion: number,
  ): Promise<StrongRead<T>> {
    const leaseToken = randomUUID();
    try {
      for (let attempt = 0; ; attempt++) {
        const found = await this.local.lookup(key, leaseToken, this.o.leaseTtlMs);
        if (found.kind === "hit") {
          const ageMs = Math.max(0, Date.now() - found.atMs);
          const tooOld = maxAgeMs !== undefined && ageMs > maxAgeMs;
          if (!tooOld && found.version >= minVersion) {
            return {
              value: decode<T>(found.json),
              version: found.version,
              region: this.region,
              ageMs,
              source: "cache",
            };
          }
          break; // the database always has the latest committed version
        }
        if (found.kind === "lease") {
          const { row, fillable } = await this.pgRead(key, this.table.readForFill(key, this.o.pgTimeoutMs));
          // Best effort: the value read is correct even if the fill fails (the lease then just expires).
          if (fillable) {
            await this.local
              .fill(key, leaseToken, row.json ?? "", row.version, this.o.entryTtlMs)
              .catch(() => false);
          }
          return this.fromRow<T>(row);
        }
        if (found.kind === "pending" || attempt >= this.o.leaseRetries) break;
        await new Promise((r) => setTimeout(r, this.o.leaseRetryDelayMs)); // another reader is filling
      }
      return this.fromRow<T>(await this.pgRead(key, this.table.read(key, undefined, this.o.pgTimeoutMs)));
    } catch (err) {
      throw typedError(err);
    }
  }

  /** A pool read bounded end to end (waiting for a pooled connection included). */
  private pgRead<R>(key: string, read: Promise<R>): Promise<R> {
    return withDeadline("postgres", `read of ${key}`, this.o.pgTimeoutMs + 500, read);
  }

  private fromRow<T>(row: Row): StrongRead<T> {
    return {
      value: decode<T>(row.json ?? ""),
      version: row.version,
      region: this.region,
      ageMs: 0,
      source: "database",
    };
  }

  // ---- writes ------------------------------------------------------------------------------------------

  /** Write-through; other regions are invalidated before this resolves. `lock`: lock name or held handle. */
  async setWithStrongConsistency(
    key: string,
    value: unknown,
    lock?: LockArg,
    options: { session?: StrongSession } = {},
  ): Promise<WriteResult> {
    checkKey(key, this.limits);
    const json = serialize(value, this.limits);
    return this.withLock(lock, async (fence) => {
      const version = this.group
        ? await this.group.submit({ key, json, ...(fence !== undefined ? { fence } : {}) })
        : await this.writeAlone(key, json, fence);
      options.session?.observe(key, version);
      return { version, region: this.region, ...(fence !== undefined ? { fence: fence.token } : {}) };
    });
  }

  private async writeAlone(key: string, json: string, fence: Fence | undefined): Promise<number> {
    const versions = await this.writeTxn(fence, async (client) => {
      const v = await this.table.write(client, key, json, fence);
      return new Map([[key, { json, version: v }]]);
    });
    return versions.get(key)!;
  }

  /** Group-commit counters (undefined when group commit is off): groups, writes, largest, refused. */
  groupCommitStats(): Readonly<GroupStats> | undefined {
    return this.group?.stats;
  }

  /** Compare-and-set on the value (JSON equality; `expected` undefined = key absent). */
  async compareAndSet<T = unknown>(
    key: string,
    expected: T | undefined,
    next: T,
    lock?: LockArg,
  ): Promise<CasResult<T>> {
    checkKey(key, this.limits);
    const nextJson = serialize(next, this.limits);
    const expectedJson = expected === undefined ? undefined : serialize(expected, this.limits);
    return this.withLock(lock, async (fence) => {
      let outcome: { ok: boolean; current?: T; version: number } = { ok: false, version: 0 };
      await this.writeTxn(fence, async (client) => {
        const row = (await this.table.lockRows(client, [key])).get(key)!;
        if (!(await this.sameJson(client, row.json, expectedJson))) {
          outcome = { ok: false, current: decode<T>(row.json ?? ""), version: row.version };
          return new Map();
        }
        const versions = await this.table.updateLocked(client, new Map([[key, nextJson]]), fence);
        outcome = { ok: true, version: versions.get(key)! };
        return new Map([[key, { json: nextJson, version: outcome.version }]]);
      });
      return { ...outcome, region: this.region, ...(fence !== undefined ? { fence: fence.token } : {}) };
    });
  }

  /**
   * Atomic read-modify-write over several keys: rows are locked in key order, `fn` sees their committed
   * values and stages writes with `tx.set`; all writes commit together or not at all.
   */
  async transaction<R>(
    keys: readonly string[],
    fn: (tx: TxnView) => R | Promise<R>,
    options: { lock?: LockHandle } = {},
  ): Promise<TxnResult<R>> {
    if (keys.length === 0) throw new InvalidInputError("transaction needs at least one key");
    for (const k of keys) checkKey(k, this.limits);
    if (options.lock && options.lock.state === "released") {
      throw new LockNotHeldError(`lock ${options.lock.resource} was released`);
    }
    const fence = options.lock ? fenceOf(options.lock) : undefined;
    let result!: R;
    let versions: Record<string, number> = {};
    let written: string[] = [];
    await this.writeTxn(fence, async (client) => {
      const rows = await this.table.lockRows(client, keys);
      const staged = new Map<string, string>();
      const view: TxnView = {
        get: <T>(k: string) => decode<T>((staged.get(k) ?? this.declared(rows, k).json) || ""),
        version: (k) => this.declared(rows, k).version,
        set: (k, v) => {
          this.declared(rows, k);
          staged.set(k, serialize(v, this.limits));
        },
      };
      result = await fn(view);
      versions = Object.fromEntries([...rows].map(([k, r]) => [k, r.version]));
      written = [...staged.keys()];
      if (staged.size === 0) return new Map();
      const newVersions = await this.table.updateLocked(client, staged, fence);
      for (const [k, v] of newVersions) versions[k] = v;
      return new Map([...staged].map(([k, json]) => [k, { json, version: newVersions.get(k)! }]));
    });
    return { result, versions, written };
  }

  private declared(rows: Map<string, Row>, key: string): Row {
    const row = rows.get(key);
    if (!row) throw new InvalidInputError(`key ${key} was not declared by the transaction`);
    return row;
  }

  private async sameJson(client: pg.PoolClient, current: string | undefined, expected: string | undefined) {
    if (current === undefined || expected === undefined) return current === expected;
    // jsonb equality: key order and whitespace do not matter.
    const r = await client.query<{ eq: boolean }>("SELECT $1::jsonb = $2::jsonb AS eq", [current, expected]);
    return r.rows[0]!.eq;
  }

  /** One write transaction (see WriteProtocol); the changed keys carry `fence` to the write-through. */
  private async writeTxn(
    fence: Fence | undefined,
    body: (client: pg.PoolClient) => Promise<Map<string, { json: string; version: number }>>,
  ): Promise<Map<string, number>> {
    const changed = await this.writes.run(async (client) => {
      const made = await body(client);
      return new Map([...made].map(([k, c]) => [k, fence !== undefined ? { ...c, fence } : c]));
    });
    return new Map([...changed].map(([k, c]) => [k, c.version]));
  }

  // ---- locks -------------------------------------------------------------------------------------------
  // One signature each: handles and options objects. A caller holding only a lock's name and token (across
  // a process or an HTTP request) uses `locks.release(name, token)` / `locks.renew(name, token, ttlMs)`.

  /** Acquires `lockKey` with acquire options (ttlMs, waitMs, owner, watchdog, …). */
  async acquireLock(lockKey: string, options: AcquireOptions = {}): Promise<LockHandle> {
    checkLockOptions("acquireLock(lockKey, options)", options);
    const owner = options.owner ?? this.lockDefaults.owner ?? currentLockOwner() ?? this.lockOwner;
    return this.locks.acquire(lockKey, { ...this.lockDefaults, ...options, owner });
  }

  /** Releases the handle's lock. LockNotHeldError if not ours any more. */
  async releaseLock(handle: LockHandle): Promise<void> {
    checkLockHandle("releaseLock(handle)", handle);
    return handle.release();
  }

  /** Extends the handle's lock by `ttlMs` (default: its ttl). */
  async renewLock(handle: LockHandle, ttlMs?: number): Promise<void> {
    checkLockHandle("renewLock(handle, ttlMs?)", handle);
    checkTtlMs("renewLock(handle, ttlMs?)", ttlMs);
    return handle.renew(ttlMs);
  }

  private async withLock<R>(lock: LockArg, fn: (fence: Fence | undefined) => Promise<R>): Promise<R> {
    if (lock === undefined) return fn(undefined);
    if (typeof lock !== "string") {
      if (lock.state === "released") throw new LockNotHeldError(`lock ${lock.resource} was released`);
      return fn(fenceOf(lock)); // a lost / expired holder is stopped by the fence check, not by local belief
    }
    const handle = await this.acquireLock(lock);
    try {
      return await fn(fenceOf(handle));
    } finally {
      await handle.release().catch(() => {});
    }
  }

  // ---- diagnostics -------------------------------------------------------------------------------------

  /** The raw cached copy in this region (tests, debugging). */
  peekLocal(key: string) {
    return this.local.peek(key);
  }

  /** Direct versioned + fenced set into this region's copy (the Redis half of fencing; tests, repair). */
  setLocalIfNewer(key: string, value: unknown, version: number, fence?: number, holder = "") {
    return this.local.setIfNewer(key, serialize(value, this.limits), version, {
      ...(fence !== undefined ? { fence: { token: fence, holder } } : {}),
      entryTtlMs: this.o.entryTtlMs,
    });
  }
}

/** The fence a write under `h` carries: its token, and the acquisition it belongs to. */
function fenceOf(h: LockHandle): Fence {
  return { token: h.fence, holder: h.token };
}

function decode<T>(json: string): T | undefined {
  return json === "" ? undefined : (JSON.parse(json) as T);
}
