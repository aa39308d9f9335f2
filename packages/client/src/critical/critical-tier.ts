// critical: linearizable reads from the in-process L1. A copy is served only while this node's lease in
// its region's directory is alive and trusted. A write (1) marks the key in every region's directory and
// invalidates every holder there — ack or lease expiry — (2) commits through the strong tier, (3) unmarks
// and invalidates anyone who registered after a mark expired. Only then is it acknowledged.
import { randomUUID } from "node:crypto";
import {
  BackendUnavailableError,
  MeridianError,
  REGIONS,
  type Region,
  StalenessBoundError,
} from "@meridian/core";
import type { LockHandle } from "@meridian/locks";
import type { StrongConsistencyCache, TxnResult, TxnView } from "@meridian/strong";
import type { Redis } from "ioredis";
import { deepFreeze, type L1Store, l1Read } from "../l1.js";
import type { ClientRead, ClientWrite, ReadOptions, WriteOptions } from "../types.js";
import { MARK_AND_COLLECT, REGISTER_HOLDER, UNMARK_AND_COLLECT } from "./directory-scripts.js";
import type { InvalidationBus } from "./invalidation-bus.js";
import type { NodeLease } from "./node-lease.js";

export interface CriticalTierOptions {
  region: Region;
  nodeId: string;
  prefix: string;
  regions: Readonly<Record<Region, Redis>>;
  strong: StrongConsistencyCache;
  l1: L1Store<unknown>;
  lease: NodeLease;
  bus: InvalidationBus;
  /** Lifetime of a holder set in the directory; copies are dropped before it can run out. */
  holderTtlMs: number;
  maxDriftRate: number;
  /** Upper bound of a write's commit (the write mark's lifetime). */
  markTtlMs: number;
  /** How long a new Redis incarnation's holder sets are not trusted (≥ the longest lease of any node). */
  quarantineMs: number;
  /** A write that cannot finish invalidating within this fails with BackendUnavailableError. */
  invalidationTimeoutMs: number;
  /** Bytes of a value, for the L1's byte bound. */
  sizeOf: (v: unknown) => number;
}

type Collected = { region: Region; holders: [string, number][] };

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export class CriticalTier {
  private readonly inflight = new Map<string, Promise<ClientRead>>();
  /** Writes that waited for a new Redis incarnation's quarantine. */
  readonly counters = { incarnationWaits: 0 };

  constructor(private readonly o: CriticalTierOptions) {}

  /** The hot path: a trusted L1 copy, or undefined. Synchronous on purpose (no allocation but the result). */
  hit(key: string, opts: ReadOptions | undefined, now: number): ClientRead | undefined {
    const o = this.o;
    if (!o.lease.valid(now) || !o.bus.listening) return undefined;
    const e = o.l1.peekTrusted(key, now);
    if (e === undefined) return undefined;
    const ageMs = now - e.filledAt;
    if (opts !== undefined) {
      if (opts.maxAgeMs !== undefined && ageMs > opts.maxAgeMs) return undefined;
      if (opts.session !== undefined && (e.version as number) < opts.session.minVersion(key))
        return undefined;
    }
    return l1Read(o.l1, e, ageMs, o.region);
  }

  async get(key: string, opts: ReadOptions = {}): Promise<ClientRead> {
    const hit = this.hit(key, opts, performance.now());
    if (hit !== undefined) {
      opts.session?.observeCritical(key, hit.version as number);
      return hit;
    }
    this.o.l1.counters.misses++;
    // Concurrent misses of one key share one fill (when no bound makes them differ).
    const shared = opts.maxAgeMs === undefined && opts.session === undefined;
    const running = shared ? this.inflight.get(key) : undefined;
    if (running) return running;
    const p = this.fill(key, opts);
    if (shared) {
      this.inflight.set(key, p);
      void p.catch(() => {}).finally(() => this.inflight.delete(key));
    }
    return p;
  }

  private async fill(key: string, opts: ReadOptions): Promise<ClientRead> {
    const o = this.o;
    if (!o.lease.valid(performance.now())) {
      o.bus.counters.leaseWaits++;
      await this.renewLease();
    }
    const fill = o.l1.beginFill(key);
    const registeredAt = performance.now();
    try {
      const registered = await REGISTER_HOLDER.run(
        o.regions[o.region],
        [this.holdersKey(key), this.leaseKey(o.nodeId), this.markKey(key)],
        [o.nodeId, o.holderTtlMs],
      );
      const r = await o.strong.getWithStrongConsistency(key, {
        ...(opts.maxAgeMs !== undefined ? { maxAgeMs: opts.maxAgeMs } : {}),
        ...(opts.session ? { session: opts.session.critical } : {}),
      });
      if (Number(registered) === 1 && o.bus.listening && o.lease.valid(performance.now())) {
        o.l1.install(key, fill, {
          value: deepFreeze(r.value),
          version: r.version,
          filledAt: performance.now(),
          ageAtFill: 0,
          // The directory forgets the holder set after holderTtlMs (Redis clock): the copy goes before.
          expiresAt: registeredAt + o.holderTtlMs * (1 - o.maxDriftRate) - 1000,
          writtenBy: undefined,
          bytes: o.sizeOf(r.value) + key.length,
        });
      }
      return {
        value: r.value,
        version: r.version,
        ageMs: 0,
        stale: false,
        source: r.source === "cache" ? "l2" : "database",
        region: o.region,
      };
    } catch (err) {
      throw asTyped(err);
    } finally {
      o.l1.endFill(key, fill);
    }
  }

  private async renewLease(): Promise<void> {
    try {
      await this.o.lease.renew();
    } catch (err) {
      throw asTyped(err);
    }
    if (!this.o.lease.valid(performance.now())) {
      throw new StalenessBoundError(
        "this node holds no trusted lease (renewal failed, or its clock disagrees with Redis); critical read refused",
        {
          region: this.o.region,
        },
      );
    }
  }

  async set(
    key: string,
    value: unknown,
    opts: WriteOptions & { lock?: string | LockHandle } = {},
  ): Promise<ClientWrite> {
    const w = await this.marked([key], () =>
      this.o.strong.setWithStrongConsistency(key, value, opts.lock, {
        ...(opts.session ? { session: opts.session.critical } : {}),
      }),
    );
    return { version: w.version, region: this.o.region };
  }

  /**
   * An atomic read-modify-write of several keys through the strong tier (`StrongConsistencyCache.transaction`),
   * with every L1 copy of every key invalidated first, as for `set`.
   */
  transaction<R>(keys: readonly string[], fn: (tx: TxnView) => R | Promise<R>): Promise<TxnResult<R>> {
    return this.marked(keys, () => this.o.strong.transaction(keys, fn));
  }

  /** Runs `commit` with `keys` marked in every region and every L1 copy of them gone; unmarks after. */
  private async marked<T>(keys: readonly string[], commit: () => Promise<T>): Promise<T> {
    const writer = randomUUID();
    const deadline = performance.now() + this.o.invalidationTimeoutMs;
    const each = (script: typeof MARK_AND_COLLECT) =>
      Promise.all(keys.map((key) => this.invalidateHolders(key, writer, script, deadline)));
    for (const key of keys) this.o.l1.invalidate(key);
    try {
      await each(MARK_AND_COLLECT);
    } catch (err) {
      // Nothing was committed: take the marks back so readers may cache the keys again.
      await each(UNMARK_AND_COLLECT).catch(() => {});
      throw err;
    }
    try {
      return await commit();
    } finally {
      // Unmark even when the commit failed, so readers may cache again.
      for (const key of keys) this.o.l1.invalidate(key);
      await each(UNMARK_AND_COLLECT);
    }
  }

  /** Marks (or unmarks) the key in every region and waits until every holder there acked or lapsed. */
  private async invalidateHolders(
    key: string,
    writer: string,
    script: typeof MARK_AND_COLLECT,
    deadline: number,
  ): Promise<void> {
    const o = this.o;
    let collected: Collected[];
    try {
      collected = await Promise.all(
        REGIONS.map(async (region) => ({
          region,
          holders: await this.collect(region, key, writer, script, deadline),
        })),
      );
    } catch (err) {
      throw asTyped(err);
    }
    const waits: Promise<void>[] = [];
    for (const { region, holders } of collected) {
      for (const [holder, pttl] of holders) {
        if (holder === o.nodeId) continue; // our own copy was dropped before
        waits.push(o.bus.invalidate(region, holder, key, pttl, deadline));
      }
    }
    try {
      await Promise.all(waits);
    } catch (err) {
      throw asTyped(err);
    }
  }

  /**
   * One region's holders of `key`, with their remaining lease. A Redis incarnation younger than one lease
   * may have forgotten holders whose leases are still running: wait until they have run out.
   */
  private async collect(
    region: Region,
    key: string,
    writer: string,
    script: typeof MARK_AND_COLLECT,
    deadline: number,
  ): Promise<[string, number][]> {
    const o = this.o;
    for (;;) {
      const reply = (await script.run(
        o.regions[region],
        [this.holdersKey(key), this.markKey(key), `${o.prefix}inc`],
        [writer, o.markTtlMs, `${o.prefix}n:`, o.quarantineMs],
      )) as (string | number)[];
      const wait = Number(reply[0]);
      if (wait === 0) {
        const holders: [string, number][] = [];
        for (let i = 1; i < reply.length; i += 2) holders.push([String(reply[i]), Number(reply[i + 1])]);
        return holders;
      }
      if (performance.now() + wait > deadline) {
        throw new BackendUnavailableError(
          `Redis of ${region} is a new incarnation: holders it lost may still serve for ${wait} ms`,
          { key, region },
        );
      }
      this.counters.incarnationWaits++;
      await sleep(wait);
    }
  }

  holdersKey(key: string): string {
    return `${this.o.prefix}h:${key}`;
  }
  markKey(key: string): string {
    return `${this.o.prefix}w:${key}`;
  }
  leaseKey(node: string): string {
    return `${this.o.prefix}n:${node}`;
  }
}

function asTyped(err: unknown): Error {
  if (err instanceof MeridianError) return err;
  return new BackendUnavailableError(`critical tier: ${(err as Error)?.message ?? String(err)}`, {
    backend: "redis",
  });
}
