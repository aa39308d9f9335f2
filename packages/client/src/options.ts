// Options of createMeridianClient, with their defaults and their checks (InvalidInputError up front).
import {
  type CrdtType,
  type DataClass,
  InvalidInputError,
  parseRegion,
  REGIONS,
  type RedisAuth,
  type Region,
} from "@meridian/core";
import type { ReadInfo, RegionStore, UpdatePublisher, WriterIncarnationSource } from "@meridian/eventual";
import type { Redis } from "ioredis";
import type pg from "pg";
import type { Registry } from "prom-client";

export const DATA_CLASSES: readonly DataClass[] = ["critical", "important", "cacheable"];

export interface L1Options {
  maxEntries?: number;
  /** Approximate bytes (serialized size of keys and values). */
  maxBytes?: number;
}

export interface MeridianClientOptions {
  region: Region;
  /** Redis server of the regions (default MERIDIAN_REDIS_URL or redis://127.0.0.1:6379). */
  redisUrl?: string;
  /** Regions whose Redis is a server of its own (one per region), by URL; the others use redisUrl. */
  regionUrls?: Partial<Record<Region, string>>;
  /** Redis ACL user / password / TLS (default: configFromEnv().redisAuth). */
  redisAuth?: RedisAuth;
  /** Logical DB of each region on that server (default core's defaultRegionDbs, 1..5, as every tier). */
  regionDbs?: Partial<Record<Region, number>>;
  /** Fail a Redis command after this long (default 2000 ms); commands never queue while disconnected. */
  commandTimeoutMs?: number;
  /** Unique per process (default `<region>-<uuid>`). */
  nodeId?: string;
  /** Largest key (default 1024 chars) and serialized value (default 1 MiB). */
  limits?: { maxKeyLength?: number; maxValueBytes?: number };
  /** L1 bounds per class (default 100 000 entries and 64 MiB each). */
  l1?: Partial<Record<DataClass, L1Options>>;
  /** critical is enabled with a PostgreSQL pool (or URL) — the source of truth. */
  critical?: {
    pg: pg.Pool | string;
    keyPrefix?: string;
    table?: string;
    /** Liveness lease of this node's L1 (default 2000 ms): the longest a frozen holder delays a write. */
    leaseMs?: number;
    /** Clock rate difference tolerated between this node and Redis (default 0.01 = 1 %). */
    maxDriftRate?: number;
    /** A write fails if it cannot finish invalidating L1 copies in this long (default 10 000 ms). */
    invalidationTimeoutMs?: number;
  };
  /** important is enabled with a publisher of updates to the other regions (Kafka in production). */
  important?: {
    keyPrefix: string;
    publisher: UpdatePublisher;
    crdtTypeFor?: (key: string) => CrdtType;
    /** Other regions' L2, to refresh a read that cannot meet its bound or session. */
    peers?: RegionStore[];
    /** Consistency window: reads older than this are flagged stale (default 5000 ms). */
    maxAgeMs?: number;
    /** Called after every read that reached L2 (the monitor's hook). Must not throw. */
    onRead?: (info: ReadInfo) => void;
    /**
     * Durable writer incarnations (`pgWriterIncarnations(pool)`): after the region's Redis loses its data,
     * writes use a new vector-clock node instead of reusing counters.
     */
    incarnations?: WriterIncarnationSource;
  };
  cacheable?: {
    keyPrefix?: string;
    /** Default entry TTL in L2 (default 1000 ms). */
    ttlMs?: number;
    maxTtlMs?: number;
    /** Staleness bound of L1 copies (default 500 ms; must be < 1000 unless stated otherwise). */
    l1TtlMs?: number;
  };
  /** prom-client registry for the client's metrics (default: a new one, `client.metrics`). */
  registry?: Registry;
  /** Ready connections per region to use instead of opening them (they are not closed by close()). */
  regionsRedis?: Partial<Record<Region, Redis>>;
}

export function checkOptions(o: MeridianClientOptions): void {
  parseRegion(o?.region, REGIONS);
  const positive = (name: string, v: number | undefined) => {
    if (v !== undefined && !(Number.isFinite(v) && v > 0))
      throw new InvalidInputError(`${name} must be > 0`, { [name]: v });
  };
  positive("commandTimeoutMs", o.commandTimeoutMs);
  positive("critical.leaseMs", o.critical?.leaseMs);
  positive("critical.invalidationTimeoutMs", o.critical?.invalidationTimeoutMs);
  positive("cacheable.ttlMs", o.cacheable?.ttlMs);
  positive("cacheable.l1TtlMs", o.cacheable?.l1TtlMs);
  const drift = o.critical?.maxDriftRate;
  if (drift !== undefined && !(drift >= 0 && drift < 0.5)) {
    throw new InvalidInputError("critical.maxDriftRate must be in [0, 0.5)", { maxDriftRate: drift });
  }
  for (const [cls, l1] of Object.entries(o.l1 ?? {})) {
    if (!DATA_CLASSES.includes(cls as DataClass))
      throw new InvalidInputError("unknown data class in l1", { class: cls });
    positive(`l1.${cls}.maxEntries`, l1?.maxEntries);
    positive(`l1.${cls}.maxBytes`, l1?.maxBytes);
  }
  if (o.important && typeof o.important.keyPrefix !== "string") {
    throw new InvalidInputError("important.keyPrefix is required", {});
  }
}

export function checkClass(cls: unknown): DataClass {
  if (cls === "critical" || cls === "important" || cls === "cacheable") return cls;
  throw new InvalidInputError("unknown data class", { class: cls });
}
