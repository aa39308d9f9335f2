// createRegionNode: one region's caches wired from config, a thin user of @meridian/client — `important`
// data through the client (L1 kept by Redis key tracking over the EventualConsistencyCache: L2 write +
// Kafka publish, CRDT merges), `critical` data through the client too when PostgreSQL is given
// (`criticalPg`: L1 copies under leases, linearizable) or through a supplied CriticalStore. `cacheable`
// goes through a CoherentCacheable (coherent in-process L1 over the region's Redis) unless
// `cacheableCoherence: false` (TTL cache). services/region-node puts HTTP on top of it (startRegionNode).

import { AvroSerde, createKafka, IdempotentProducer, topicsFor } from "@meridian/bus";
import {
  createMeridianClient,
  type MeridianClient,
  type MeridianClientOptions,
  type MeridianSession,
} from "@meridian/client";
import {
  type DataClass,
  InvalidInputError,
  isRegion,
  type MeridianConfig,
  NotImplementedError,
  parseRegion,
  REGIONS,
  type ReadBound,
  StalenessBoundError,
} from "@meridian/core";
import {
  batchingUpdatePublisher,
  type EventualConsistencyCache,
  type ReadInfo,
  type WriterIncarnationSource,
} from "@meridian/eventual";
import { LockManager, pgFenceEpochs } from "@meridian/locks";
import {
  ensureTopicsFor,
  type RegionLayout,
  type RegionLayoutOptions,
  regionRedisUrl,
  resolveLayout,
} from "@meridian/service-kit";
import { createRedis, type PgPool, type Redis } from "@meridian/store";
import type { Kafka } from "kafkajs";
import { Registry } from "prom-client";
import { type CacheableStore, CoherentCacheable, redisUrlWithDb } from "./coherent-cacheable.js";
import { crdtTypeForKey, validateKey } from "./keyspace.js";
import { LEDGER_PREFIX, Ledger } from "./ledger.js";
import { asObject, criticalWriteValue, importantWriteArg, parseMinVersion } from "./request-body.js";
import { criticalMinVersion } from "./strong-critical.js";
import { TtlCache } from "./ttl-cache.js";

/** What a `critical` backend must offer; the StrongConsistencyCache is adapted to this. */
export interface CriticalStore {
  get(key: string, opts: ReadOptions): Promise<NodeRead | null>;
  set(key: string, body: unknown): Promise<NodeWrite>;
  close?(): Promise<void>;
}

export interface RegionNodeConfig extends RegionLayoutOptions {
  region: string;
  config: MeridianConfig;
  /** TTL (= staleness bound) of `cacheable` entries, default 1000 ms. */
  cacheableTtlMs?: number;
  /**
   * `cacheable` through a CoherentNearCache (default true): an in-process L1 kept coherent with the
   * region's Redis L2 and with the other nodes of the region (invalidations over Redis pub/sub).
   * false: the plain TtlCache (L1 copies live ≤ 250 ms, no invalidations between nodes).
   */
  cacheableCoherence?: boolean;
  /** Coherence node id of this process (default `<region>-<pid>-<random>`); unique per node. */
  nodeId?: string;
  /** Consistency window of `important` reads (flagged stale beyond it), default 5000 ms. */
  importantMaxAgeMs?: number;
  kafka?: Kafka;
  serde?: AvroSerde;
  /**
   * `critical` through the node's client (coherent L1 under leases, PostgreSQL the source of truth):
   * the pool (search_path at the strong table's schema) and the table name.
   */
  criticalPg?: { pool: PgPool; table?: string };
  /** Another backend for `critical`; with neither, critical requests fail with NotImplemented (HTTP 501). */
  critical?: CriticalStore;
  /**
   * Durable writer incarnations of `important` data (`pgWriterIncarnations(pool)`): after this region's
   * Redis loses its data, its writes use a new vector-clock node instead of reusing counters.
   */
  incarnations?: WriterIncarnationSource;
  onRead?: (info: ReadInfo) => void;
  /** Registry for the client's meridian_client_* metrics (default: the client's own). */
  metricsRegistry?: Registry;
}

/** minVersion: important → a vector clock `{region: counter}`; critical → the key's integer version. */
export type ReadOptions = ReadBound<Record<string, number> | number>;

/** Every read says how fresh it is: value, version, region, ageMs. */
export interface NodeRead {
  key: string;
  class: DataClass;
  value: unknown;
  version: unknown;
  region: string;
  ageMs: number;
  stale?: boolean;
  writtenBy?: string;
  /** critical data with home regions: which region owns the key and whether the request was forwarded. */
  placement?: Placement;
}

export interface Placement {
  home: string;
  forwarded: boolean;
  /** Round trip of the forwarded request (0 when served in this region). */
  forwardMs: number;
  /** Served from this region's copy of a read-mostly key. */
  localCopy: boolean;
}

export interface NodeWrite {
  key: string;
  class: DataClass;
  region: string;
  version: unknown;
  placement?: Placement;
}

export interface RegionNode {
  readonly region: string;
  readonly keyPrefix: string;
  readonly redis: Redis;
  /** The embedded client (its `stats()` and prom-client `metrics`). */
  readonly client: MeridianClient;
  readonly important: EventualConsistencyCache;
  readonly cacheable: CacheableStore;
  /** The coherent cacheable store (its `near.stats`), or undefined with `cacheableCoherence: false`. */
  readonly coherentCacheable: CoherentCacheable | undefined;
  /** Fenced transfers between `ledger:` accounts (with `criticalPg` only). */
  readonly ledger: Ledger | undefined;
  get(cls: DataClass, key: string, opts?: ReadOptions): Promise<NodeRead | null>;
  /** Body per class — important: `{value}` (lww / mv), `{op:"increment"|"decrement",by}` (counters),
   *  `{op:"add"|"remove",element}` (sets); cacheable: `{value, ttlMs?}`; critical: the strong store's body. */
  set(cls: DataClass, key: string, body: unknown): Promise<NodeWrite>;
  close(): Promise<void>;
}

export async function createRegionNode(cfg: RegionNodeConfig): Promise<RegionNode> {
  const layout = resolveLayout(cfg);
  const region = parseRegion(cfg.region, layout.regions);
  const redisUrl = regionRedisUrl(layout, region, cfg.config.redisUrl);
  const redis = createRedis(redisUrl, { db: layout.redisDbs[region]!, auth: cfg.config.redisAuth });
  const kafka = cfg.kafka ?? createKafka(cfg.config, `region-node-${region}`);
  await ensureTopicsFor(kafka, layout);
  const producer = new IdempotentProducer(kafka, { compression: "gzip" }); // ~7× fewer bytes per update batch
  await producer.connect();
  const serde = cfg.serde ?? new AvroSerde(cfg.config.schemaRegistryUrl);
  let client: MeridianClient;
  try {
    client = await createMeridianClient(clientOptions(cfg, layout, region, producer, serde));
  } catch (err) {
    await producer.disconnect().catch(() => undefined);
    redis.disconnect();
    throw err;
  }
  const ttlOpt = cfg.cacheableTtlMs !== undefined ? { ttlMs: cfg.cacheableTtlMs } : {};
  let coherentCacheable: CoherentCacheable | undefined;
  try {
    coherentCacheable =
      cfg.cacheableCoherence === false
        ? undefined
        : await connectCoherentCacheable(cfg, layout, region, redisUrl);
  } catch (err) {
    await client.close().catch(() => undefined);
    await producer.disconnect().catch(() => undefined);
    redis.disconnect();
    throw err;
  }
  const cacheable: CacheableStore =
    coherentCacheable ?? new TtlCache(redis, { region, keyPrefix: layout.keyPrefix, ...ttlOpt });
  const { ledger, lockRedis } = cfg.criticalPg
    ? createLedger(cfg, cfg.criticalPg.pool, layout, region, client)
    : { ledger: undefined, lockRedis: undefined };

  return {
    region,
    keyPrefix: layout.keyPrefix,
    redis,
    client,
    important: client.eventual!,
    cacheable,
    coherentCacheable,
    ledger,
    ...dataClassRoutes(cfg, client, region, cacheable),
    async close() {
      await cfg.critical?.close?.();
      await client.close().catch(() => undefined);
      // Releases this node's L1 lines in the directory (sharers would otherwise wait for its lease).
      await coherentCacheable?.close().catch(() => undefined);
      await producer.disconnect().catch(() => undefined);
      lockRedis?.disconnect();
      redis.disconnect();
    },
  };
}

/** The embedded client's options: `important` published through `producer`, `critical` on criticalPg. */
function clientOptions(
  cfg: RegionNodeConfig,
  layout: RegionLayout,
  region: string,
  producer: IdempotentProducer,
  serde: AvroSerde,
): MeridianClientOptions {
  return {
    // The client's tiers span the default regions only.
    region: parseRegion(region, REGIONS),
    redisUrl: cfg.config.redisUrl,
    regionUrls: Object.fromEntries(Object.entries(layout.redisUrls).filter(([r]) => isRegion(r))),
    ...(cfg.config.redisAuth ? { redisAuth: cfg.config.redisAuth } : {}),
    regionDbs: Object.fromEntries(Object.entries(layout.redisDbs).filter(([r]) => isRegion(r))),
    ...(cfg.nodeId ? { nodeId: cfg.nodeId } : {}),
    ...(cfg.metricsRegistry ? { registry: cfg.metricsRegistry } : {}),
    important: {
      keyPrefix: layout.keyPrefix,
      publisher: batchingUpdatePublisher(producer, serde, topicsFor(layout.namespace).updates(region)),
      crdtTypeFor: crdtTypeForKey,
      maxAgeMs: cfg.importantMaxAgeMs ?? 5000,
      ...(cfg.incarnations ? { incarnations: cfg.incarnations } : {}),
      ...(cfg.onRead ? { onRead: cfg.onRead } : {}),
    },
    ...(cfg.criticalPg
      ? {
          critical: {
            pg: cfg.criticalPg.pool,
            keyPrefix: `${layout.keyPrefix}strong:`,
            ...(cfg.criticalPg.table ? { table: cfg.criticalPg.table } : {}),
          },
        }
      : {}),
  };
}

/** get / set routed by data class; keys validated first, ledger accounts written only by transfers. */
function dataClassRoutes(
  cfg: RegionNodeConfig,
  client: MeridianClient,
  region: string,
  cacheable: CacheableStore,
): Pick<RegionNode, "get" | "set"> {
  const critical = (): CriticalStore => {
    if (cfg.criticalPg) return clientCritical(client);
    if (!cfg.critical)
      throw new NotImplementedError("critical data class: no StrongConsistencyCache configured");
    return cfg.critical;
  };
  return {
    async get(cls, key, opts = {}) {
      validateKey(key);
      if (cls === "critical") return critical().get(key, opts);
      if (cls === "cacheable") return readCacheable(cacheable, key, opts);
      return readImportant(client, region, key, opts);
    },
    async set(cls, key, body) {
      validateKey(key);
      if (cls === "critical") {
        if (key.startsWith(LEDGER_PREFIX)) {
          throw new InvalidInputError(
            `${LEDGER_PREFIX} accounts change only through transfers and deposits`,
            {
              field: "key",
            },
          );
        }
        return critical().set(key, body);
      }
      if (cls === "cacheable") return writeCacheable(cacheable, region, key, body);
      const w = await client.set("important", key, importantWriteArg(key, body));
      return { key, class: cls, region, version: w.version };
    },
  };
}

/** The coherent cacheable store of this node (a coherent L1 over the region's Redis). */
function connectCoherentCacheable(
  cfg: RegionNodeConfig,
  layout: RegionLayout,
  region: string,
  redisUrl: string,
): Promise<CoherentCacheable> {
  return CoherentCacheable.connect({
    region,
    redisUrl: redisUrlWithDb(redisUrl, layout.redisDbs[region]!),
    redisAuth: cfg.config.redisAuth,
    // Under the namespace's key prefix (purged with it); per region, as pub/sub spans DBs.
    prefix: `${layout.keyPrefix}coh:${region}`,
    nodeId: cfg.nodeId ?? `${region}-${process.pid}-${Math.random().toString(36).slice(2, 8)}`,
    ...(cfg.cacheableTtlMs !== undefined ? { ttlMs: cfg.cacheableTtlMs } : {}),
  });
}

/**
 * The fenced ledger over `client`. Its locks live on the first region's Redis for every node, so all
 * regions exclude each other; the connection is the caller's to close.
 */
function createLedger(
  cfg: RegionNodeConfig,
  pool: PgPool,
  layout: RegionLayout,
  region: string,
  client: MeridianClient,
): { ledger: Ledger; lockRedis: Redis } {
  const lockRegion = layout.regions[0]!;
  const lockRedis = createRedis(regionRedisUrl(layout, lockRegion, cfg.config.redisUrl), {
    db: layout.redisDbs[lockRegion]!,
    auth: cfg.config.redisAuth,
  });
  const locks = new LockManager(lockRedis, {
    prefix: `${layout.keyPrefix}ledger-lock:`,
    fenceEpochs: pgFenceEpochs(pool),
  });
  const ledger = new Ledger({ region, client, locks, registry: cfg.metricsRegistry ?? new Registry() });
  return { ledger, lockRedis };
}

/** A cacheable read: maxAgeMs only (a TTL copy has no version to bound). */
async function readCacheable(
  cacheable: CacheableStore,
  key: string,
  opts: ReadOptions,
): Promise<NodeRead | null> {
  if (opts.minVersion !== undefined) throw new InvalidInputError("minVersion is not supported for cacheable");
  const r = await cacheable.get(key, opts.maxAgeMs !== undefined ? { maxAgeMs: opts.maxAgeMs } : {});
  return (
    r && { key, class: "cacheable", value: r.value, version: r.version, region: r.region, ageMs: r.ageMs }
  );
}

/** An important read through the client; a vector-clock minVersion reads as a session that saw it. */
async function readImportant(
  client: MeridianClient,
  region: string,
  key: string,
  opts: ReadOptions,
): Promise<NodeRead | null> {
  if (typeof opts.minVersion === "number") {
    throw new InvalidInputError('minVersion of an important read is a vector clock like {"us-east":3}');
  }
  const minClock = parseMinVersion(opts.minVersion);
  const session = minClock ? sessionAt(client, key, { important: minClock }) : undefined;
  const r = await client.get("important", key, {
    ...(opts.maxAgeMs !== undefined ? { maxAgeMs: opts.maxAgeMs } : {}),
    ...(session ? { session } : {}),
  });
  if (r.value === undefined) {
    if (minClock)
      throw new StalenessBoundError(`${key} not yet present at ${region}`, { key, minVersion: minClock });
    return null;
  }
  return {
    key,
    class: "important",
    value: r.value,
    version: r.version,
    region: r.region,
    ageMs: r.ageMs,
    stale: r.stale,
    ...(r.writtenBy !== undefined ? { writtenBy: r.writtenBy } : {}),
  };
}

/** A cacheable write: `{value, ttlMs?}`. */
async function writeCacheable(
  cacheable: CacheableStore,
  region: string,
  key: string,
  body: unknown,
): Promise<NodeWrite> {
  const b = asObject(body);
  const ttl = b.ttlMs;
  if (ttl !== undefined && typeof ttl !== "number") throw new InvalidInputError("ttlMs must be a number");
  const r = await cacheable.set(key, b.value, ttl);
  return { key, class: "cacheable", region, version: r.version };
}

/** A session that already saw `key` at the caller's minimum version (the HTTP minVersion parameter). */
function sessionAt(
  client: MeridianClient,
  key: string,
  min: { important?: Record<string, number>; critical?: number },
): MeridianSession {
  const s = client.session();
  if (min.important) s.observeImportant(key, min.important);
  if (min.critical !== undefined) s.observeCritical(key, min.critical);
  return s;
}

/** `critical` through the client: reads from its L1 under leases, writes invalidate every L1 first. */
function clientCritical(client: MeridianClient): CriticalStore {
  return {
    async get(key, opts) {
      const minVersion = criticalMinVersion(opts);
      const session = minVersion !== undefined ? sessionAt(client, key, { critical: minVersion }) : undefined;
      const r = await client.get("critical", key, {
        ...(opts.maxAgeMs !== undefined ? { maxAgeMs: opts.maxAgeMs } : {}),
        ...(session ? { session } : {}),
      });
      if (r.value === undefined) {
        if (minVersion !== undefined && minVersion > 0) {
          throw new StalenessBoundError(`${key} does not exist at version ${minVersion}`, {
            key,
            minVersion,
          });
        }
        return null;
      }
      return { key, class: "critical", value: r.value, version: r.version, region: r.region, ageMs: r.ageMs };
    },
    async set(key, body) {
      const w = await client.set("critical", key, criticalWriteValue(body));
      return { key, class: "critical", region: w.region, version: w.version };
    },
  };
}
