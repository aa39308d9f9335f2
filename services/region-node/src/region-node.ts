// createRegionNode: one region's caches wired from config — `important` data through the
// EventualConsistencyCache (L2 write + Kafka publish, CRDT merges), `cacheable` data through a TTL cache,
// `critical` data through the StrongConsistencyCache when one is supplied. `cacheable` goes through a
// CoherentCacheable (coherent in-process L1 over the region's Redis) unless `cacheableCoherence: false`. This is the library-level node;
// services/region-node puts HTTP on top of it (startRegionNode).

import { AvroSerde, createKafka, IdempotentProducer, topicsFor } from "@meridian/bus";
import {
  type DataClass,
  InvalidInputError,
  type MeridianConfig,
  NotImplementedError,
  type ReadBound,
  StalenessBoundError,
} from "@meridian/core";
import { EventualConsistencyCache, type ReadInfo, type WriterIncarnationSource } from "@meridian/eventual";
import {
  ensureTopicsFor,
  type RegionLayoutOptions,
  regionRedisUrl,
  resolveLayout,
} from "@meridian/service-kit";
import { createRedis, type Redis } from "@meridian/store";
import type { Kafka } from "kafkajs";
import { batchingUpdatePublisher } from "./batching-publisher.js";
import { type CacheableStore, CoherentCacheable, redisUrlWithDb } from "./coherent-cacheable.js";
import { crdtTypeForKey, validateKey } from "./keyspace.js";
import { asObject, importantWriteArg, parseMinVersion } from "./request-body.js";
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
  /** Backend for `critical`; without one, critical requests fail with NotImplemented (HTTP 501). */
  critical?: CriticalStore;
  /**
   * Durable writer incarnations of `important` data (`pgWriterIncarnations(pool)`): after this region's
   * Redis loses its data, its writes use a new vector-clock node instead of reusing counters.
   */
  incarnations?: WriterIncarnationSource;
  onRead?: (info: ReadInfo) => void;
}

/** minVersion: important → a vector clock `{region: counter}`; critical → the key's integer version. */
export type ReadOptions = ReadBound<Record<string, number> | number>;

/** Every read says how fresh it is (DESIGN: value, version, region, ageMs). */
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
  readonly important: EventualConsistencyCache;
  readonly cacheable: CacheableStore;
  /** The coherent cacheable store (its `near.stats`), or undefined with `cacheableCoherence: false`. */
  readonly coherentCacheable: CoherentCacheable | undefined;
  get(cls: DataClass, key: string, opts?: ReadOptions): Promise<NodeRead | null>;
  /** Body per class — important: `{value}` (lww / mv), `{op:"increment"|"decrement",by}` (counters),
   *  `{op:"add"|"remove",element}` (sets); cacheable: `{value, ttlMs?}`; critical: the strong store's body. */
  set(cls: DataClass, key: string, body: unknown): Promise<NodeWrite>;
  close(): Promise<void>;
}

export async function createRegionNode(cfg: RegionNodeConfig): Promise<RegionNode> {
  const layout = resolveLayout(cfg);
  const { region } = cfg;
  if (!layout.regions.includes(region)) {
    throw new InvalidInputError(`region ${region} is not one of ${layout.regions.join(", ")}`, { region });
  }
  const topics = topicsFor(layout.namespace);
  const redisUrl = regionRedisUrl(layout, region, cfg.config.redisUrl);
  const redis = createRedis(redisUrl, { db: layout.redisDbs[region]! });
  const kafka = cfg.kafka ?? createKafka(cfg.config, `region-node-${region}`);
  await ensureTopicsFor(kafka, layout);
  const producer = new IdempotentProducer(kafka);
  await producer.connect();
  const serde = cfg.serde ?? new AvroSerde(cfg.config.schemaRegistryUrl);
  const important = new EventualConsistencyCache(
    redis,
    batchingUpdatePublisher(producer, serde, topics.updates(region)),
    {
      region,
      keyPrefix: layout.keyPrefix,
      crdtTypeFor: crdtTypeForKey,
      maxAgeMs: cfg.importantMaxAgeMs ?? 5000,
      ...(cfg.incarnations ? { incarnations: cfg.incarnations } : {}),
      ...(cfg.onRead ? { onRead: cfg.onRead } : {}),
    },
  );
  const ttlOpt = cfg.cacheableTtlMs !== undefined ? { ttlMs: cfg.cacheableTtlMs } : {};
  let coherentCacheable: CoherentCacheable | undefined;
  try {
    coherentCacheable =
      cfg.cacheableCoherence === false
        ? undefined
        : await CoherentCacheable.connect({
            region,
            redisUrl: redisUrlWithDb(redisUrl, layout.redisDbs[region]!),
            // Under the namespace's key prefix (purged with it); per region, as pub/sub spans DBs.
            prefix: `${layout.keyPrefix}coh:${region}`,
            nodeId: cfg.nodeId ?? `${region}-${process.pid}-${Math.random().toString(36).slice(2, 8)}`,
            ...ttlOpt,
          });
  } catch (err) {
    await producer.disconnect().catch(() => undefined);
    redis.disconnect();
    throw err;
  }
  const cacheable: CacheableStore =
    coherentCacheable ?? new TtlCache(redis, { region, keyPrefix: layout.keyPrefix, ...ttlOpt });

  const critical = (): CriticalStore => {
    if (!cfg.critical)
      throw new NotImplementedError("critical data class: no StrongConsistencyCache configured");
    return cfg.critical;
  };

  return {
    region,
    keyPrefix: layout.keyPrefix,
    redis,
    important,
    cacheable,
    coherentCacheable,
    async get(cls, key, opts = {}) {
      validateKey(key);
      if (cls === "critical") return critical().get(key, opts);
      if (cls === "cacheable") {
        if (opts.minVersion !== undefined)
          throw new InvalidInputError("minVersion is not supported for cacheable");
        const r = await cacheable.get(key, opts.maxAgeMs !== undefined ? { maxAgeMs: opts.maxAgeMs } : {});
        return r && { key, class: cls, value: r.value, version: r.version, region: r.region, ageMs: r.ageMs };
      }
      if (typeof opts.minVersion === "number") {
        throw new InvalidInputError('minVersion of an important read is a vector clock like {"us-east":3}');
      }
      const minClock = parseMinVersion(opts.minVersion);
      const r = await important.getWithEventualConsistency(key, {
        ...(opts.maxAgeMs !== undefined ? { maxAgeMs: opts.maxAgeMs } : {}),
        ...(minClock ? { minVersion: minClock } : {}),
      });
      if (!r) {
        if (minClock)
          throw new StalenessBoundError(`${key} not yet present at ${region}`, { key, minVersion: minClock });
        return null;
      }
      return {
        key,
        class: cls,
        value: r.value,
        version: r.version,
        region: r.region,
        ageMs: r.ageMs,
        stale: r.stale,
        writtenBy: r.writtenBy,
      };
    },
    async set(cls, key, body) {
      validateKey(key);
      if (cls === "critical") return critical().set(key, body);
      if (cls === "cacheable") {
        const b = asObject(body);
        const ttl = b.ttlMs;
        if (ttl !== undefined && typeof ttl !== "number")
          throw new InvalidInputError("ttlMs must be a number");
        const r = await cacheable.set(key, b.value, ttl);
        return { key, class: cls, region, version: r.version };
      }
      const version = await important.setWithEventualConsistency(key, importantWriteArg(key, body));
      return { key, class: cls, region, version };
    },
    async close() {
      await cfg.critical?.close?.();
      // Releases this node's L1 lines in the directory (sharers would otherwise wait for its lease).
      await coherentCacheable?.close().catch(() => undefined);
      await producer.disconnect().catch(() => undefined);
      redis.disconnect();
    },
  };
}
