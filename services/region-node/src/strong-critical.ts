// The `critical` data class over @meridian/strong: one StrongConsistencyCache per region (PostgreSQL is
// the source of truth, every region's Redis DB holds a copy that each write invalidates before it is
// acknowledged), adapted to the region node's CriticalStore interface.
import {
  InvalidInputError,
  type MeridianConfig,
  parseRegion,
  REGIONS,
  type Region,
  StalenessBoundError,
} from "@meridian/core";
import { type RegionLayout, regionRedisUrl } from "@meridian/service-kit";
import { createRedis, type PgPool, type Redis } from "@meridian/store";
import { StrongConsistencyCache } from "@meridian/strong";
import type { CriticalStore, NodeRead, ReadOptions } from "./region-node.js";
import { criticalWriteValue } from "./request-body.js";
import { openSchemaPool } from "./schema-pool.js";

export interface StrongCriticalOptions {
  /** PostgreSQL schema holding the table (created if missing); default: the pool's search_path. */
  schema?: string;
  /** Table name (default meridian_strong). */
  table?: string;
}

export interface StrongCritical {
  forRegion(region: string): CriticalStore;
  readonly pool: PgPool;
  close(): Promise<void>;
}

/** A PostgreSQL schema name derived from a cluster namespace (lower case, `_` for anything else). */
export function schemaForNamespace(namespace: string): string {
  return `meridian_${namespace.toLowerCase().replace(/[^a-z0-9_]/g, "_")}`.slice(0, 63);
}

/** The integer minVersion of a critical read (InvalidInputError for anything else). */
export function criticalMinVersion(opts: ReadOptions): number | undefined {
  const v = opts.minVersion as unknown;
  if (v === undefined) return undefined;
  if (typeof v !== "number" || !Number.isSafeInteger(v) || v < 0) {
    throw new InvalidInputError("minVersion of a critical read is a non-negative integer version", {
      field: "minVersion",
    });
  }
  return v;
}

interface StrongReadLike {
  value: unknown;
  version: number;
  region: string;
  ageMs: number;
}

/**
 * A node read of critical data over any linearizable reader: the node's freshness options become the
 * reader's, an absent key is null (or a StalenessBoundError when a version was required).
 */
export async function readCritical<R extends StrongReadLike>(
  key: string,
  readOpts: ReadOptions,
  read: (o: { maxAgeMs?: number; minVersion?: number }) => Promise<R>,
  extra: (r: R) => Partial<NodeRead> = () => ({}),
): Promise<NodeRead | null> {
  const minVersion = criticalMinVersion(readOpts);
  const r = await read({
    ...(readOpts.maxAgeMs !== undefined ? { maxAgeMs: readOpts.maxAgeMs } : {}),
    ...(minVersion !== undefined ? { minVersion } : {}),
  });
  if (r.value === undefined) {
    if (minVersion !== undefined && minVersion > 0) {
      throw new StalenessBoundError(`${key} does not exist at version ${minVersion}`, { key, minVersion });
    }
    return null;
  }
  return {
    key,
    class: "critical",
    value: r.value,
    version: r.version,
    region: r.region,
    ageMs: r.ageMs,
    ...extra(r),
  };
}

export async function createStrongCritical(
  config: MeridianConfig,
  layout: RegionLayout,
  opts: StrongCriticalOptions = {},
): Promise<StrongCritical> {
  const pool = await openSchemaPool(config, { max: 10, ...(opts.schema ? { schema: opts.schema } : {}) });
  const redis: Record<string, Redis> = {};
  for (const r of layout.regions) {
    redis[r] = createRedis(regionRedisUrl(layout, r, config.redisUrl), {
      db: layout.redisDbs[r]!,
      auth: config.redisAuth,
    });
  }
  const caches = new Map<string, StrongConsistencyCache>();
  for (const region of layout.regions) {
    caches.set(
      region,
      new StrongConsistencyCache(redis[region]!, pool, {
        // StrongConsistencyCache serves the default regions (its Redis DB map is theirs).
        region: parseRegion(region, REGIONS),
        peers: redis as Partial<Record<Region, Redis>>,
        keyPrefix: `${layout.keyPrefix}strong:`,
        ...(opts.table ? { table: opts.table } : {}),
      }),
    );
  }
  await caches.get(layout.regions[0]!)!.init();

  return {
    pool,
    forRegion(region) {
      const cache = caches.get(parseRegion(region, layout.regions))!;
      return {
        get: (key, readOpts) => readCritical(key, readOpts, (o) => cache.getWithStrongConsistency(key, o)),
        async set(key, body) {
          const w = await cache.setWithStrongConsistency(key, criticalWriteValue(body));
          return { key, class: "critical", region: w.region, version: w.version };
        },
      };
    },
    async close() {
      for (const r of Object.values(redis)) r.disconnect();
      await pool.end();
    },
  };
}
