// Where each region lives on one machine: one Redis server with one logical database per region (the
// keyspaces are as isolated as separate servers for this simulation, without five extra processes' memory
// and start time), one Kafka broker with per-region topics. A namespace isolates runs (tests, demos):
// it prefixes every topic and every Redis key.
import { defaultRegionDbs, InvalidInputError, parseRegion, REGIONS } from "@meridian/core";

export interface RegionLayoutOptions {
  regions?: readonly string[];
  /** Prefixes topics (`<ns>.meridian.…`) and Redis keys (`meridian:<ns>:`). */
  namespace?: string;
  /** Logical Redis DB per region; default core's defaultRegionDbs (regions[i] → DB 1 + i). */
  redisDbs?: Record<string, number>;
  /**
   * Redis server per region (`redis://host:port`), when regions do not share one server (containers, the
   * processes topology); a region not listed uses the configured MERIDIAN_REDIS_URL.
   */
  redisUrls?: Record<string, string>;
}

export interface RegionLayout {
  regions: string[];
  namespace: string | undefined;
  redisDbs: Record<string, number>;
  redisUrls: Record<string, string>;
  keyPrefix: string;
}

const NAMESPACE_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

export function resolveLayout(opts: RegionLayoutOptions = {}): RegionLayout {
  const regions = [...(opts.regions ?? REGIONS)];
  if (regions.length < 2) throw new InvalidInputError("a cluster needs at least two regions");
  if (new Set(regions).size !== regions.length) throw new InvalidInputError("region names must be unique");
  if (opts.namespace !== undefined && !NAMESPACE_PATTERN.test(opts.namespace)) {
    throw new InvalidInputError("namespace must be 1-64 chars of [A-Za-z0-9._-]", {
      namespace: opts.namespace,
    });
  }
  // A DB or URL given for a region the layout lacks is a typo, refused like any unknown region.
  for (const region of Object.keys(opts.redisDbs ?? {})) parseRegion(region, regions, "redisDbs");
  const redisDbs: Record<string, number> = {};
  const defaults = defaultRegionDbs(regions);
  regions.forEach((region) => {
    const db = opts.redisDbs?.[region] ?? defaults[region]!;
    if (!Number.isInteger(db) || db < 0 || db > 15) {
      throw new InvalidInputError(`Redis DB for ${region} must be 0-15`, { region, db });
    }
    redisDbs[region] = db;
  });
  const redisUrls: Record<string, string> = {};
  for (const [region, url] of Object.entries(opts.redisUrls ?? {})) {
    parseRegion(region, regions, "redisUrls");
    if (!/^rediss?:\/\//.test(url))
      throw new InvalidInputError(`Redis URL of ${region} must be redis://…`, { region });
    redisUrls[region] = url;
  }
  return {
    regions,
    namespace: opts.namespace,
    redisDbs,
    redisUrls,
    keyPrefix: `meridian:${opts.namespace ?? "default"}:`,
  };
}

/** The Redis server of `region`: its own when the layout names one, else the shared `fallbackUrl`. */
export function regionRedisUrl(layout: RegionLayout, region: string, fallbackUrl: string): string {
  return layout.redisUrls[region] ?? fallbackUrl;
}
