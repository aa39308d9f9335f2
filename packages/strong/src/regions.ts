// Five regions, one Redis copy each. On one Redis server each region gets its own logical DB.
import { REGIONS, type Region } from "@meridian/core";
import { boundedRedisOptions } from "@meridian/store";
import { Redis } from "ioredis";

export interface RegionRedisOptions {
  /** Logical DB per region (default: 10..14 in REGIONS order). */
  dbs?: Partial<Record<Region, number>>;
  maxRetriesPerRequest?: number;
}

export const DEFAULT_REGION_DBS: Record<Region, number> = {
  "us-east": 10,
  "us-west": 11,
  "eu-west": 12,
  "ap-south": 13,
  "ap-northeast": 14,
};

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
