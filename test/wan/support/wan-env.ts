// Three regions with home-region critical data behind a WAN of uniform delay, isolated by a random key
// prefix and per-run PostgreSQL schemas (dropped afterwards).
import { randomBytes } from "node:crypto";
import { configFromEnv } from "@meridian/core";
import { createGeoCritical, type GeoCritical, WanNetwork } from "@meridian/wan";

export const REGIONS3 = ["us-east", "eu-west", "ap-south"] as const;

export interface GeoEnv {
  network: WanNetwork;
  geo: GeoCritical;
  cleanup(): Promise<void>;
}

export async function geoTestEnv(
  oneWayMs: number,
  opts: { forwardTimeoutMs?: number; readMostly?: string[] } = {},
): Promise<GeoEnv> {
  const config = configFromEnv();
  const run = randomBytes(4).toString("hex");
  const network = new WanNetwork({ regions: REGIONS3, latencyMs: () => oneWayMs });
  const geo = await createGeoCritical({
    network,
    pgUrl: config.pgUrl,
    redisUrl: config.redisUrl,
    // One logical DB per region, as in a cluster: a region's copies must not be another's.
    redisDbs: { "us-east": 6, "eu-west": 7, "ap-south": 8 },
    keyPrefix: `wan-test:${run}:`,
    schemaBase: `wan_test_${run}`,
    policy: {
      prefixes: { "acct:us": "us-east", "acct:eu": "eu-west", "acct:ap": "ap-south", "ref:": "us-east" },
      ...(opts.readMostly ? { readMostly: opts.readMostly } : {}),
    },
    forwardTimeoutMs: opts.forwardTimeoutMs ?? 1500,
  });
  return {
    network,
    geo,
    async cleanup() {
      await geo.close();
      await network.stop();
      await geo.dropSchemas();
    },
  };
}

/** Runs `fn`, returning its value and how long it took. */
export async function timed<T>(fn: () => Promise<T>): Promise<{ ms: number; value: T }> {
  const startedAt = performance.now();
  const value = await fn();
  return { ms: performance.now() - startedAt, value };
}
