// EventualConsistencyCache: one region's view of eventually consistent keys. A write is acknowledged
// after the local L2 CAS and the publish; remote updates arrive through applyRemoteUpdate (the consumer)
// and anti-entropy. Every read reports its age; a read with a bound that the local copy cannot meet is
// refreshed from the peer regions' L2 (read-repair) and fails with StalenessBoundError if still unmet.
import {
  BackendUnavailableError,
  type CrdtType,
  compareHlc,
  emptyCrdt,
  type HlcTimestamp,
  HybridLogicalClock,
  InvalidInputError,
  isCrdtType,
  MeridianError,
  SerializationError,
  StalenessBoundError,
  StaleVersionError,
  VectorClock,
} from "@meridian/core";
import { withDeadline } from "@meridian/store";
import type { Redis } from "ioredis";
import { type BatchItem, writeBatch } from "./batch-write.js";
import { updateFromEntry, validateKey } from "./codec.js";
import { applyCounterOp, luaCounterAmount } from "./counter-merge.js";
import { applyWrite, isCrdtOp, restoreValue, type WriteContext } from "./crdt-write.js";
import {
  casUpdate,
  type HistoryOptions,
  historyLimitOf,
  historyTtlOf,
  IncarnationChangedError,
  type IncarnationGuard,
  markSynced,
  mergeEntry,
  readEntry,
  readHistory,
  readSnapshot,
  type Snapshot,
} from "./entry-store.js";
import { writerNode } from "./incarnation.js";
import { bucketOf, verifiedKey } from "./keys.js";
import { resolveEntries } from "./resolve.js";
import type {
  CacheUpdate,
  CrdtOp,
  EventualCacheOptions,
  EventualRead,
  ReadInfo,
  ReadOptions,
  StoredEntry,
  UpdateKind,
  UpdatePublisher,
} from "./types.js";
import { type BatchWritten, WriteCoalescer } from "./write-coalescer.js";
import { checkWrite, foldWrites } from "./write-fold.js";

export class EventualConsistencyCache {
  readonly region: string;
  readonly keyPrefix: string;
  private readonly hlc: HybridLogicalClock;
  private readonly now: () => number;
  private readonly crdtTypeFor: (key: string) => CrdtType;
  private readonly history: HistoryOptions;
  /** The incarnation this region writes under, as last read from (or installed in) its Redis. */
  private writer: { node: string; guard: IncarnationGuard } | undefined;
  /** Unversioned writes go through it: one delta per key per batch, one pipeline, one Kafka send. */
  private readonly coalescer: WriteCoalescer<StoredEntry> | undefined;

  constructor(
    readonly redis: Redis,
    readonly publisher: UpdatePublisher,
    readonly options: EventualCacheOptions,
  ) {
    if (typeof options?.region !== "string" || options.region.length === 0) {
      throw new InvalidInputError("EventualConsistencyCache needs a region", { region: options?.region });
    }
    if (typeof options.keyPrefix !== "string") {
      throw new InvalidInputError("EventualConsistencyCache needs a keyPrefix string", {});
    }
    if (options.maxAgeMs !== undefined && !(options.maxAgeMs >= 0)) {
      throw new InvalidInputError("maxAgeMs must be >= 0", { maxAgeMs: options.maxAgeMs });
    }
    this.region = options.region;
    this.keyPrefix = options.keyPrefix;
    this.now = options.now ?? Date.now;
    this.hlc = new HybridLogicalClock(this.region, { physicalNow: this.now });
    this.crdtTypeFor = options.crdtTypeFor ?? (() => "lww");
    this.history = {
      historyLimit: historyLimitOf(options),
      historyTtlMs: historyTtlOf(options),
      now: this.now,
    };
    if (options.coalesce !== false) {
      this.coalescer = new WriteCoalescer((batch) => this.writeCoalesced(batch), options.coalesce ?? {});
    }
  }

  /**
   * Reads the local copy with its freshness.
   * With a bound (maxAgeMs / minVersion) that the copy does not meet, the key is refreshed from `peers`;
   * StalenessBoundError if there are no peers, one is unreachable, or the bound is still unmet.
   * Without a bound the read never fails on age; it is flagged `stale` past options.maxAgeMs.
   */
  async getWithEventualConsistency(key: string, opts: ReadOptions = {}): Promise<EventualRead | null> {
    validateKey(key);
    const bound = checkedReadOptions(opts);
    const minClock = bound.minVersion ? VectorClock.from(bound.minVersion) : null;

    let read = await this.readLocal(key);
    let refreshed = false;
    const hasPeers = (this.options.peers ?? []).length > 0;
    // A miss under a bound is refreshed too when peers exist: the key may simply not have arrived yet.
    const missUnderBound = read === null && hasPeers && (bound.maxAgeMs !== undefined || minClock !== null);
    if (missUnderBound || !this.meets(read, bound.maxAgeMs, minClock)) {
      try {
        await this.refreshFromPeers(key, read?.ageMs ?? null, bound.maxAgeMs);
      } catch (err) {
        this.report(key, read, false, true);
        throw err;
      }
      read = await this.readLocal(key);
      refreshed = true;
      if (!this.meets(read, bound.maxAgeMs, minClock)) {
        this.report(key, read, refreshed, true);
        throw new StalenessBoundError(
          "eventual read cannot meet its bound even after refreshing from peers",
          {
            key,
            region: this.region,
            ageMs: read?.ageMs ?? null,
            maxAgeMs: bound.maxAgeMs ?? null,
            version: read?.version ?? null,
            minVersion: bound.minVersion ?? null,
          },
        );
      }
    }
    if (read) read.refreshed = refreshed;
    this.report(key, read, refreshed);
    return read;
  }

  /**
   * Local L2 write (atomic CAS) then publish of the full new state; resolves to the new version.
   * `value` per the key's CRDT type (see crdt-write.ts applyWrite): a JSON value for lww/mvregister,
   * `{op:"increment"|"decrement", by}` or a target number for pncounter, `{op:"add"|"remove", element}`
   * or a target array for orset. `version`, when given, is the version the caller read: the write is
   * refused with StaleVersionError unless the local copy still has exactly that version.
   * If the publish fails the local write stays (anti-entropy or propagateUpdate spreads it) and
   * BackendUnavailableError is thrown.
   * Unversioned writes are coalesced (options.coalesce): concurrent writes to one key become one delta
   * and share a Redis round trip and a Kafka send with other keys; each still resolves only once its
   * update is in Redis and acknowledged by Kafka. OverloadedError (nothing written) past the bound.
   */
  async setWithEventualConsistency(
    key: string,
    value: unknown | CrdtOp,
    version?: Record<string, number>,
  ): Promise<Record<string, number>> {
    validateKey(key);
    const type = this.typeFor(key);
    if (version === undefined && this.coalescer) {
      checkWrite(type, value);
      return (await this.coalescer.write(key, value)).clock.toJSON();
    }
    if (type === "pncounter" && version === undefined) {
      const written = await this.counterOp(key, value);
      if (written) {
        await this.publish(key, written, "UPDATE");
        return written.clock.toJSON();
      }
    }
    const expected = version === undefined ? null : VectorClock.from(version);
    const { written } = await this.localCas(key, (snap, node) => {
      const current = snap.entry;
      if (expected && !(current?.clock ?? VectorClock.empty()).equals(expected)) {
        throw new StaleVersionError("the key changed since the version the write was based on", {
          key,
          expected: expected.toJSON(),
          actual: current?.clock.toJSON() ?? {},
        });
      }
      const ctx = this.writeContext(snap, node);
      const crdt = applyWrite(type, current?.crdt ?? emptyCrdt(type), value, ctx);
      const entry: StoredEntry = {
        crdt,
        clock: ctx.clock,
        hlc: ctx.ts,
        region: this.region,
        updatedAtMs: this.now(),
      };
      return { step: { entry, historyCause: "local-write" }, result: null };
    });
    const entry = written!;
    await this.publish(key, entry, "UPDATE");
    return entry.clock.toJSON();
  }

  /** Writes a coalesced batch (one delta per key) and publishes every written entry in one send. */
  private async writeCoalesced(batch: Map<string, unknown[]>): Promise<BatchWritten<StoredEntry>> {
    let todo: BatchItem[] = [...batch].map(([key, values]) => {
      const type = this.typeFor(key);
      return { key, type, fold: foldWrites(type, values) };
    });
    const results: BatchWritten<StoredEntry>["results"] = new Map();
    const deps = {
      region: this.region,
      history: this.history,
      now: this.now,
      counterTs: () => this.hlc.now(),
      context: (snap: Snapshot, node: string) => this.writeContext(snap, node),
    };
    for (let attempt = 0; todo.length > 0; attempt++) {
      if (attempt > 3) {
        const err = new BackendUnavailableError("writer incarnation keeps changing in Redis", {
          region: this.region,
        });
        for (const item of todo) results.set(item.key, { error: err });
        break;
      }
      if (attempt > 0) this.writer = undefined;
      const out = await writeBatch(this.redis, this.keyPrefix, await this.currentWriter(), todo, deps);
      for (const [key, r] of out.results) results.set(key, r);
      todo = out.redo;
    }
    const updates = [];
    for (const [key, r] of results) {
      if (!("value" in r)) continue;
      this.observe(r.value.hlc);
      updates.push(updateFromEntry(key, r.value, "UPDATE", this.region, this.now()));
    }
    const durable = this.publishAll(updates);
    durable.catch(() => {}); // settled through the coalescer; never an unhandled rejection
    return { results, durable };
  }

  /** Re-publishes the local copy of `key` (after a failed publish, or to push a repaired state). */
  async propagateUpdate(key: string): Promise<boolean> {
    validateKey(key);
    const entry = await readEntry(this.redis, this.keyPrefix, key);
    if (!entry) return false;
    await this.publish(key, entry, "UPDATE");
    return true;
  }

  /**
   * The state two copies of `key` resolve to (pure, nothing written): the dominating copy when clocks are
   * ordered, the CRDT merge when concurrent. InvalidInputError if a copy's type differs from the key's policy.
   */
  resolveConflict(key: string, local: StoredEntry | null, remote: StoredEntry): StoredEntry {
    validateKey(key);
    const type = this.typeFor(key);
    for (const e of [local, remote]) {
      if (e && e.crdt.type !== type) {
        throw new InvalidInputError("copy's CRDT type differs from the key's policy", {
          key,
          policy: type,
          copy: e.crdt.type,
        });
      }
    }
    return resolveEntries(local, remote, this.now()).entry;
  }

  /**
   * Restores the value the key had at `version` (a version some read or write returned, that a later
   * write or merge overrode within the rollback window), as a new update that dominates everything this
   * region has seen, and propagates it (kind ROLLBACK). Concurrent updates elsewhere still merge with it
   * by the CRDT. InvalidInputError when `version` is not in the key's rollback history.
   */
  async rollback(key: string, version: Record<string, number>): Promise<Record<string, number>> {
    validateKey(key);
    const target = VectorClock.from(version);
    const records = await readHistory(this.redis, this.keyPrefix, key);
    const record = records.find((r) => r.before.clock.equals(target));
    if (!record) {
      throw new InvalidInputError("version is not in the key's rollback window", {
        key,
        version: target.toJSON(),
        known: records.map((r) => r.before.clock.toJSON()),
      });
    }
    const { written } = await this.localCas(key, (snap, node) => {
      const type = record.before.crdt.type;
      const current = snap.entry?.crdt ?? emptyCrdt(type);
      const ctx = this.writeContext(snap, node);
      const { crdt, clock } = restoreValue(current, record.before.crdt, ctx);
      const entry: StoredEntry = { crdt, clock, hlc: ctx.ts, region: this.region, updatedAtMs: this.now() };
      return { step: { entry, historyCause: "rollback" }, result: null };
    });
    await this.publish(key, written!, "ROLLBACK");
    return written!.clock.toJSON();
  }

  // ---- internals ----

  private typeFor(key: string): CrdtType {
    const type = this.crdtTypeFor(key);
    if (!isCrdtType(type))
      throw new InvalidInputError("crdtTypeFor returned an unknown CRDT type", { key, type });
    return type;
  }

  /**
   * A local write's CAS, counted under the region's current writer incarnation. If Redis lost the
   * incarnation key (it lost its data) the CAS refuses, and the write is recomputed under a new one.
   */
  private localCas<T>(
    key: string,
    compute: (
      snap: Snapshot,
      node: string,
    ) => { step: { entry: StoredEntry; historyCause?: string } | null; result: T },
  ) {
    return this.asWriter((writer) =>
      casUpdate(
        this.redis,
        this.keyPrefix,
        key,
        writer.node,
        (snap) => compute(snap, writer.node),
        this.history,
        writer.guard,
      ),
    );
  }

  /**
   * An increment/decrement merged inside Redis in one script (no read-modify-write race, no retry).
   * Null when the input is not an integer op or the stored state needs the CAS path.
   */
  private async counterOp(key: string, value: unknown): Promise<StoredEntry | null> {
    if (!isCrdtOp(value) || (value.op !== "increment" && value.op !== "decrement")) return null;
    const by = value.by ?? 1;
    if (typeof by !== "number" || !luaCounterAmount(by)) return null;
    const written = await this.asWriter((writer) =>
      applyCounterOp(
        this.redis,
        this.keyPrefix,
        key,
        { node: writer.node, region: this.region, side: value.op, by, ts: this.hlc.now() },
        this.history,
        writer.guard,
      ),
    );
    if (written) this.observe(written.hlc);
    return written;
  }

  /** Runs `write` under the current writer incarnation, re-reading it when Redis lost it. */
  private async asWriter<T>(write: (writer: { node: string; guard: IncarnationGuard }) => Promise<T>) {
    for (let attempt = 0; ; attempt++) {
      const writer = await this.currentWriter();
      try {
        return await write(writer);
      } catch (err) {
        if (!(err instanceof IncarnationChangedError) || attempt >= 3) throw err;
        this.writer = undefined;
      }
    }
  }

  /** Reads the incarnation from Redis; a missing one means new (or wiped) Redis: install a fresh one. */
  private async currentWriter(): Promise<{ node: string; guard: IncarnationGuard }> {
    if (this.writer) return this.writer;
    const key = `${this.keyPrefix}writer`;
    let stored = await this.guarded("incarnation read", this.redis.get(key));
    if (stored === null) {
      const source = this.options.incarnations;
      const fresh = source
        ? await this.guarded("incarnation draw", source.next(`${this.keyPrefix}${this.region}`))
        : 0;
      await this.guarded("incarnation install", this.redis.set(key, String(fresh), "NX"));
      stored = await this.guarded("incarnation read", this.redis.get(key));
      if (stored === null)
        throw new BackendUnavailableError("writer incarnation vanished right after install", { key });
    }
    this.writer = { node: writerNode(this.region, Number(stored)), guard: { key, value: stored } };
    return this.writer;
  }

  private async guarded<T>(what: string, call: Promise<T>): Promise<T> {
    try {
      return await call;
    } catch (err) {
      if (err instanceof MeridianError) throw err;
      throw new BackendUnavailableError(`${what} failed: ${(err as Error).message}`, { region: this.region });
    }
  }

  /** Clock, HLC timestamp and tag for a new local state on top of `snap`, counted under writer `node`. */
  private writeContext(snap: Snapshot, node: string): WriteContext {
    const base = snap.entry?.clock ?? VectorClock.empty();
    // Own counter above everything this writer ever used for the key, even if the entry was deleted.
    const own = Math.max(base.get(node), snap.ownHighWater) + 1;
    const clock = base.merge(VectorClock.from({ [node]: own }));
    const ts = this.nextTimestamp(snap.entry?.hlc);
    return { region: node, ts, clock, tag: `${node}.${own}.${ts.wallMs}.${ts.logical}` };
  }

  /** Moves the HLC past a timestamp the script chose (a stored one far ahead of our clock is ignored). */
  private observe(ts: HlcTimestamp): void {
    try {
      this.hlc.update(ts);
    } catch {
      // ClockDriftError: the script already ordered the write after it; nothing to learn locally.
    }
  }

  /** An HLC timestamp above the stored one, so an LWW write that saw the stored value wins over it. */
  private nextTimestamp(stored: HlcTimestamp | undefined): HlcTimestamp {
    if (stored) {
      try {
        this.hlc.update(stored);
      } catch {
        // ClockDriftError: the stored timestamp is far ahead of our clock. Still order after it below.
      }
    }
    const ts = this.hlc.now();
    if (stored && compareHlc(ts, stored) <= 0)
      return { wallMs: stored.wallMs, logical: stored.logical + 1, node: this.region };
    return ts;
  }

  private async publish(key: string, entry: StoredEntry, kind: UpdateKind): Promise<void> {
    try {
      await withDeadline(
        "kafka",
        `publish of ${key}`,
        this.options.publishTimeoutMs ?? 5_000,
        this.publisher.publish(updateFromEntry(key, entry, kind, this.region, this.now())),
      );
    } catch (err) {
      if (err instanceof MeridianError) throw err;
      throw new BackendUnavailableError(
        `publish of ${kind} failed (local L2 holds it): ${(err as Error).message}`,
        {
          key,
          backend: "kafka",
        },
      );
    }
  }

  /** Publishes a batch's updates in one send when the publisher can, bounded by publishTimeoutMs. */
  private async publishAll(updates: CacheUpdate[]): Promise<void> {
    if (updates.length === 0) return;
    const p = this.publisher;
    try {
      await withDeadline(
        "kafka",
        `publish of ${updates.length} updates`,
        this.options.publishTimeoutMs ?? 5_000,
        p.publishMany ? p.publishMany(updates) : Promise.all(updates.map((u) => p.publish(u))).then(() => {}),
      );
    } catch (err) {
      if (err instanceof MeridianError) throw err;
      throw new BackendUnavailableError(
        `publish of ${updates.length} updates failed (local L2 holds them): ${(err as Error).message}`,
        { backend: "kafka", keys: updates.slice(0, 10).map((u) => u.key) },
      );
    }
  }

  private async readLocal(key: string): Promise<EventualRead | null> {
    const [snap, verified] = await Promise.all([
      readSnapshot(this.redis, this.keyPrefix, key),
      this.redis.hget(verifiedKey(this.keyPrefix), String(bucketOf(key))).catch(() => null),
    ]);
    if (snap.corrupt)
      throw new SerializationError("stored eventual entry is corrupt", { key, region: this.region });
    const e = snap.entry;
    if (!e) return null;
    const freshAsOf = Math.max(e.hlc.wallMs, snap.syncedAtMs ?? 0, verified ? Number(verified) : 0);
    const ageMs = Math.max(0, this.now() - freshAsOf);
    return {
      value: e.crdt.value(),
      version: e.clock.toJSON(),
      region: this.region,
      writtenBy: e.region,
      ageMs,
      stale: this.options.maxAgeMs !== undefined && ageMs > this.options.maxAgeMs,
      refreshed: false,
    };
  }

  private meets(
    read: EventualRead | null,
    maxAgeMs: number | undefined,
    minClock: VectorClock | null,
  ): boolean {
    if (minClock && minClock.nodes().length > 0) {
      if (!read || !VectorClock.from(read.version).dominates(minClock)) return false;
    }
    if (maxAgeMs !== undefined && read && read.ageMs > maxAgeMs) return false;
    return true;
  }

  /** Read-repair: merges every peer's copy into ours; marks ours fresh only if every peer answered. */
  private async refreshFromPeers(
    key: string,
    ageMs: number | null,
    maxAgeMs: number | undefined,
  ): Promise<void> {
    const peers = this.options.peers ?? [];
    if (peers.length === 0) {
      throw new StalenessBoundError(
        "read misses its bound and no peer regions are configured to refresh from",
        {
          key,
          region: this.region,
          ageMs,
          maxAgeMs: maxAgeMs ?? null,
        },
      );
    }
    const startedAt = this.now();
    const results = await Promise.allSettled(peers.map((p) => readEntry(p.redis, p.keyPrefix, key)));
    let failed = 0;
    for (const r of results) {
      if (r.status === "rejected") failed++;
      else if (r.value)
        await mergeEntry(this.redis, this.keyPrefix, key, this.region, r.value, "read-repair", this.history);
    }
    if (failed > 0) {
      throw new StalenessBoundError(
        "read misses its bound and some peer regions could not be reached to refresh",
        {
          key,
          region: this.region,
          unreachablePeers: failed,
        },
      );
    }
    await markSynced(this.redis, this.keyPrefix, key, startedAt);
  }

  private report(key: string, read: EventualRead | null, refreshed: boolean, failed = false): void {
    const hook = this.options.onRead;
    if (!hook) return;
    const info: ReadInfo = {
      key,
      region: this.region,
      found: read !== null,
      ageMs: read?.ageMs ?? null,
      stale: read?.stale ?? false,
      refreshed,
      failed,
      version: read?.version ?? null,
      atMs: this.now(),
    };
    try {
      hook(info);
    } catch {
      // A monitoring hook must never break a read.
    }
  }
}

// An untyped caller passing a bare number of ms would otherwise get an unbounded read: refuse it.
function checkedReadOptions(opts: unknown): ReadOptions {
  if (typeof opts !== "object" || opts === null || Array.isArray(opts)) {
    throw new InvalidInputError("read options must be an object such as { maxAgeMs }", {
      got: opts === null ? "null" : Array.isArray(opts) ? "array" : typeof opts,
    });
  }
  const { maxAgeMs } = opts as ReadOptions;
  if (maxAgeMs !== undefined && !(typeof maxAgeMs === "number" && maxAgeMs >= 0)) {
    throw new InvalidInputError("maxAgeMs must be a number >= 0", { maxAgeMs });
  }
  return opts as ReadOptions;
}
