// MeridianClient: what an application embeds. One object per process and region: get/set for the three
// data classes, each with its own in-process L1 in front of the region's Redis (L2):
//   critical  — linearizable: L1 copies under a lease in the region's directory (critical/)
//   important — eventual CRDT data: L1 kept by Redis key tracking, re-validated after any gap (important/)
//   cacheable — weak: L1 copies live at most l1TtlMs (cacheable/)
import { randomUUID } from "node:crypto";
import { configFromEnv, type DataClass, InvalidInputError, type Region } from "@meridian/core";
import { EventualConsistencyCache } from "@meridian/eventual";
import type { LockHandle } from "@meridian/locks";
import {
  checkKey,
  type Limits,
  StrongConsistencyCache,
  serialize,
  type TxnResult,
  type TxnView,
} from "@meridian/strong";
import type { Redis } from "ioredis";
import pg from "pg";
import type { Registry } from "prom-client";
import { CacheableTier } from "./cacheable/cacheable-tier.js";
import {
  type ConnectionSpec,
  openAllRegions,
  openCommand,
  openSubscriber,
  regionDbs,
} from "./connections.js";
import { CriticalTier } from "./critical/critical-tier.js";
import { InvalidationBus } from "./critical/invalidation-bus.js";
import { NodeLease } from "./critical/node-lease.js";
import { ImportantTier } from "./important/important-tier.js";
import { KeyTracking } from "./important/tracking.js";
import { L1Store } from "./l1.js";
import { clientMetrics } from "./metrics.js";
import { checkClass, checkOptions, type MeridianClientOptions } from "./options.js";
import { MeridianSession } from "./session.js";
import type { ClientRead, ClientWrite, ReadOptions, WriteOptions } from "./types.js";

export interface SetOptions extends WriteOptions {
  /** critical: write under this lock (name, or a held handle: its fencing token is checked). */
  lock?: string | LockHandle;
  /** cacheable: entry TTL in L2. */
  ttlMs?: number;
}

interface Tier {
  hit(key: string, opts: ReadOptions | undefined, now: number): ClientRead | undefined;
  get(key: string, opts?: ReadOptions): Promise<ClientRead>;
}

/** Typed view of one class: `client.critical.get(key)`. */
export interface ClassView {
  get<V = unknown>(key: string, opts?: ReadOptions): Promise<ClientRead<V>>;
  set(key: string, value: unknown, opts?: SetOptions): Promise<ClientWrite>;
}

export async function createMeridianClient(options: MeridianClientOptions): Promise<MeridianClient> {
  checkOptions(options);
  const c = new MeridianClient(options);
  try {
    await c.start();
  } catch (err) {
    await c.close().catch(() => {});
    throw err;
  }
  return c;
}

const MiB = 1 << 20;

export class MeridianClient {
  readonly region: Region;
  readonly nodeId: string;
  readonly critical: ClassView;
  readonly important: ClassView;
  readonly cacheable: ClassView;
  metrics!: Registry;
  /** The strong tier the critical class commits through (undefined when critical is not enabled). */
  strong: StrongConsistencyCache | undefined;
  /**
   * The eventual tier behind the important class (undefined when not enabled). Writes made through it
   * directly still reach every L1: key tracking reports any change of a key in Redis.
   */
  eventual: EventualConsistencyCache | undefined;
  private readonly limits: Limits;
  private readonly spec: ConnectionSpec;
  private readonly l1: Record<DataClass, L1Store<unknown>>;
  /** Null prototype: a class name like "toString" finds nothing. */
  private readonly tiers: Partial<Record<DataClass, Tier>> = Object.create(null);
  private criticalTier: CriticalTier | undefined;
  private importantTier: ImportantTier | undefined;
  private cacheableTier: CacheableTier | undefined;
  private lease: NodeLease | undefined;
  private bus: InvalidationBus | undefined;
  private tracking: KeyTracking | undefined;
  private readonly owned: Redis[] = [];
  private ownedPool: pg.Pool | undefined;
  private regions!: Record<Region, Redis>;
  private timer: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(private readonly o: MeridianClientOptions) {
    this.region = o.region;
    this.nodeId = o.nodeId ?? `${o.region}-${randomUUID()}`;
    this.limits = {
      maxKeyLength: o.limits?.maxKeyLength ?? 1024,
      maxValueBytes: o.limits?.maxValueBytes ?? MiB,
    };
    const env = configFromEnv();
    const auth = o.redisAuth ?? env.redisAuth;
    this.spec = {
      url: o.redisUrl ?? env.redisUrl,
      ...(o.regionUrls ? { urls: o.regionUrls } : {}),
      ...(auth ? { auth } : {}),
      dbs: regionDbs(o.regionDbs),
      commandTimeoutMs: o.commandTimeoutMs ?? 2000,
    };
    const l1 = (cls: DataClass) =>
      new L1Store<unknown>({
        maxEntries: o.l1?.[cls]?.maxEntries ?? 100_000,
        maxBytes: o.l1?.[cls]?.maxBytes ?? 64 * MiB,
      });
    this.l1 = { critical: l1("critical"), important: l1("important"), cacheable: l1("cacheable") };
    this.critical = this.view("critical");
    this.important = this.view("important");
    this.cacheable = this.view("cacheable");
  }

  /** @internal opened by createMeridianClient */
  async start(): Promise<void> {
    const given = this.o.regionsRedis ?? {};
    const missing = (Object.keys(this.spec.dbs) as Region[]).filter((r) => given[r] === undefined);
    const opened = missing.length > 0 ? await openAllRegions(this.spec) : ({} as Record<Region, Redis>);
    for (const r of missing) this.owned.push(opened[r]);
    for (const r of Object.keys(opened) as Region[]) if (!missing.includes(r)) opened[r].disconnect();
    this.regions = { ...opened, ...given } as Record<Region, Redis>;
    this.startCacheable();
    if (this.o.critical) await this.startCritical(this.o.critical);
    if (this.o.important) await this.startImportant(this.o.important);
    this.metrics = clientMetrics(
      {
        l1: this.l1,
        leaseWaits: () => this.bus?.counters.leaseWaits ?? 0,
        trackingGaps: () => this.tracking?.counters.gaps ?? 0,
      },
      this.o.registry,
    );
  }

  private startCacheable(): void {
    const c = this.o.cacheable ?? {};
    const tier = new CacheableTier({
      region: this.region,
      redis: this.regions[this.region],
      keyPrefix: c.keyPrefix ?? `meridian:${this.region}:`,
      l1: this.l1.cacheable,
      ttlMs: c.ttlMs ?? 1000,
      maxTtlMs: c.maxTtlMs ?? 60_000,
      l1TtlMs: c.l1TtlMs ?? 500,
      sizeOf,
    });
    this.cacheableTier = tier;
    this.tiers.cacheable = tier;
  }

  private async startCritical(c: NonNullable<MeridianClientOptions["critical"]>): Promise<void> {
    const pool = typeof c.pg === "string" ? new pg.Pool({ connectionString: c.pg, max: 10 }) : c.pg;
    if (typeof c.pg === "string") {
      pool.on("error", () => {});
      this.ownedPool = pool;
    }
    const keyPrefix = c.keyPrefix ?? "meridian:strong:";
    const strong = new StrongConsistencyCache(this.regions[this.region], pool, {
      region: this.region,
      peers: this.regions,
      keyPrefix,
      ...(c.table ? { table: c.table } : {}),
      maxKeyLength: this.limits.maxKeyLength,
      maxValueBytes: this.limits.maxValueBytes,
    });
    await strong.init();
    this.strong = strong;
    const prefix = `${keyPrefix}l1:`;
    const leaseMs = c.leaseMs ?? 2000;
    const maxDriftRate = c.maxDriftRate ?? 0.01;
    const l1 = this.l1.critical;
    const lease = new NodeLease(
      this.regions[this.region],
      `${prefix}n:${this.nodeId}`,
      `${prefix}inc`,
      randomUUID(),
      { leaseMs, maxDriftRate },
      () => l1.clear(),
    );
    const sub = await openSubscriber(this.spec, this.region, true, this.connectionName("inv"));
    this.owned.push(sub);
    const bus = new InvalidationBus({
      region: this.region,
      nodeId: this.nodeId,
      prefix,
      regions: this.regions,
      sub,
      ackPollMs: Math.max(20, Math.floor(leaseMs / 4)),
      onInvalidate: (key) => l1.invalidate(key),
      onDeaf: () => {
        lease.revoke();
        l1.distrustAll();
      },
    });
    await bus.start();
    await lease.renew();
    this.lease = lease;
    this.bus = bus;
    // Renew at a quarter of the lease, and only while listening: a deaf node must let its lease lapse
    // so writers stop waiting for acks it can no longer send.
    this.timer = setInterval(() => {
      if (bus.listening) void lease.renew().catch(() => {});
    }, leaseMs / 4);
    this.timer.unref();
    this.criticalTier = new CriticalTier({
      region: this.region,
      nodeId: this.nodeId,
      prefix,
      regions: this.regions,
      strong,
      l1,
      lease,
      bus,
      holderTtlMs: 600_000,
      maxDriftRate,
      markTtlMs: 30_000,
      // Leases granted by a lost incarnation end within one lease of its death (holders count theirs
      // shortened by the drift bound); 10 ms for TIME's millisecond granularity.
      quarantineMs: leaseMs + 10,
      invalidationTimeoutMs: c.invalidationTimeoutMs ?? 10_000,
      sizeOf,
    });
    this.tiers.critical = this.criticalTier;
  }

  private async startImportant(c: NonNullable<MeridianClientOptions["important"]>): Promise<void> {
    const data = await openCommand(this.spec, this.region, this.connectionName("tracked"));
    const sub = await openSubscriber(this.spec, this.region, false, this.connectionName("tracking"));
    this.owned.push(data, sub);
    const eventual = new EventualConsistencyCache(data, c.publisher, {
      region: this.region,
      keyPrefix: c.keyPrefix,
      maxAgeMs: c.maxAgeMs ?? 5000,
      ...(c.crdtTypeFor ? { crdtTypeFor: c.crdtTypeFor } : {}),
      ...(c.peers ? { peers: c.peers } : {}),
      ...(c.incarnations ? { incarnations: c.incarnations } : {}),
      ...(c.onRead ? { onRead: c.onRead } : {}),
    });
    this.eventual = eventual;
    const l1 = this.l1.important;
    let tier: ImportantTier | undefined;
    const tracking = new KeyTracking({
      data,
      sub,
      onInvalidate: (redisKey) => {
        const key = tier?.cacheKeyOf(redisKey);
        if (key !== undefined) l1.invalidate(key);
      },
      onGap: () => l1.distrustAll(),
    });
    tier = new ImportantTier({ region: this.region, eventual, tracking, l1, sizeOf });
    await tracking.start();
    this.tracking = tracking;
    this.importantTier = tier;
    this.tiers.important = tier;
  }

  // ---- public operations -------------------------------------------------------------------------

  /** Read `key` of class `cls`: { value, version, ageMs, stale, source, region }. */
  get<V = unknown>(cls: DataClass, key: string, opts?: ReadOptions): Promise<ClientRead<V>> {
    // The hot path: plain checks, and an L1 hit answered without entering an async function. One call
    // site per class keeps each tier's `hit` monomorphic when one process reads several classes.
    if (this.closed || typeof key !== "string" || key.length === 0 || key.length > this.limits.maxKeyLength) {
      return this.refuse(cls, key);
    }
    let tier: Tier | undefined;
    let hit: ClientRead | undefined;
    if (cls === "critical") {
      const t = this.criticalTier;
      tier = t;
      if (t !== undefined) hit = t.hit(key, opts, performance.now());
    } else if (cls === "important") {
      const t = this.importantTier;
      tier = t;
      if (t !== undefined) hit = t.hit(key, opts, performance.now());
    } else if (cls === "cacheable") {
      const t = this.cacheableTier;
      tier = t;
      if (t !== undefined) hit = t.hit(key, opts, performance.now());
    }
    if (tier === undefined) return this.refuse(cls, key);
    if (hit !== undefined) {
      if (opts?.session !== undefined) observe(opts.session, cls, key, hit.version);
      return Promise.resolve(hit as ClientRead<V>);
    }
    return tier.get(key, opts) as Promise<ClientRead<V>>;
  }

  /** The typed error of a read the hot path turned down. */
  private refuse<V>(cls: DataClass, key: string): Promise<ClientRead<V>> {
    try {
      this.tierFor(cls);
      checkKey(key, this.limits);
    } catch (err) {
      return Promise.reject(err);
    }
    return Promise.reject(new InvalidInputError("read refused", { class: cls }));
  }

  /** Write `key` of class `cls`; critical writes resolve only after every L1 copy is gone. */
  async set(cls: DataClass, key: string, value: unknown, opts: SetOptions = {}): Promise<ClientWrite> {
    this.tierFor(cls);
    checkKey(key, this.limits);
    const json = serialize(value, this.limits);
    if (cls === "critical") return this.criticalTier!.set(key, value, opts);
    if (cls === "important") return this.importantTier!.set(key, value, opts);
    return this.cacheableTier!.set(key, json, opts.ttlMs);
  }

  /**
   * Atomic read-modify-write of several critical keys (the strong tier's `transaction`: rows locked in key
   * order, all writes commit or none); resolves only after every L1 copy of every key is gone.
   */
  async criticalTransaction<R>(
    keys: readonly string[],
    fn: (tx: TxnView) => R | Promise<R>,
  ): Promise<TxnResult<R>> {
    this.tierFor("critical");
    for (const key of keys) checkKey(key, this.limits);
    return this.criticalTier!.transaction(keys, fn);
  }

  /** A new session, or the one a token carries (InvalidInputError for a bad token). */
  session(token?: string): MeridianSession {
    return token === undefined ? new MeridianSession() : MeridianSession.decode(token);
  }

  /** Counters of every class (also in `metrics`, prom-client). */
  stats() {
    const of = (cls: DataClass) => ({
      ...this.l1[cls].counters,
      entries: this.l1[cls].size,
      bytes: this.l1[cls].bytes,
    });
    return {
      critical: {
        ...of("critical"),
        leaseWaits: this.bus?.counters.leaseWaits ?? 0,
        lease: this.lease?.counters,
        incarnationWaits: this.criticalTier?.counters.incarnationWaits ?? 0,
      },
      important: { ...of("important"), trackingGaps: this.tracking?.counters.gaps ?? 0 },
      cacheable: of("cacheable"),
    };
  }

  /** Whether this node may serve critical copies from its L1 right now (lease alive, listening). */
  servingCriticalFromL1(): boolean {
    return (this.lease?.valid(performance.now()) ?? false) && (this.bus?.listening ?? false);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.timer) clearInterval(this.timer);
    this.bus?.stop();
    await this.lease?.drop().catch(() => {});
    for (const l1 of Object.values(this.l1)) l1.clear();
    await Promise.all(this.owned.map((r) => r.quit().catch(() => r.disconnect())));
    await this.ownedPool?.end().catch(() => {});
  }

  /** CLIENT LIST name of a connection of this node (for operators and fault tests). */
  connectionName(role: "inv" | "tracked" | "tracking"): string {
    return `meridian-client:${this.nodeId}:${role}`.replace(/[^A-Za-z0-9:_.-]/g, "_");
  }

  private tierFor(cls: DataClass): Tier {
    if (this.closed) throw new InvalidInputError("client is closed");
    const tier = this.tiers[checkClass(cls)];
    if (!tier) throw new InvalidInputError(`class ${cls} is not configured on this client`, { class: cls });
    return tier;
  }

  private view(cls: DataClass): ClassView {
    return {
      get: (key, opts) => this.get(cls, key, opts),
      set: (key, value, opts) => this.set(cls, key, value, opts),
    };
  }
}

function observe(session: MeridianSession, cls: DataClass, key: string, version: unknown): void {
  if (cls === "critical") session.observeCritical(key, version as number);
  else if (cls === "important") session.observeImportant(key, version as Record<string, number>);
}

function sizeOf(v: unknown): number {
  return v === undefined ? 0 : Buffer.byteLength(JSON.stringify(v));
}
