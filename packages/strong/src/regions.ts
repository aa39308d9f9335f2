// Five regions, one Redis copy each. On one Redis server each region gets its own logical DB.
import { defaultRegionDbs, REGIONS, type Region } from "@meridian/core";
import { boundedRedisOptions } from "@meridian/store";
import { Redis } from "ioredis";

export interface RegionRedisOptions {
  /** Logical DB per region (default: core's defaultRegionDbs, 1..5 in REGIONS order). */
  dbs?: Partial<Record<Region, number>>;
  maxRetriesPerRequest?: number;
}

export const DEFAULT_REGION_DBS = defaultRegionDbs(REGIONS) as Readonly<Record<Region, number>>;

/** One ioredis client per region, each on its own logical DB of the server at `url`. */
export function connectRegionRedis(url: string, opts: RegionRedisOptions = {}): Record<Region, Redis> {
  const out = {} as Record<Region, Redis>;
  for (const region of REGIONS) {
    const client = new Redis(url, {
      ...boundedRedisOptions(),
      db: opts.dbs?.[region] ?? DEFAULT_REGION_DBS[region],
      maxRetriesPerRequest: opts.maxRetriesPerRequest ?? 2,
    });
    client.on("error", () => {}); // surfaced per command as BackendUnavailableError
    out[region] = client;
  }
  return out;
}
