// Shared set-up of the eventual integration tests: real Redis (one client per region, each region its
// own key prefix, optionally its own logical DB), a recording publisher, and cleanup by prefix.
import { randomUUID } from "node:crypto";
import { type CrdtType, configFromEnv } from "@meridian/core";
import {
  type CacheUpdate,
  crdtPolicyByPrefix,
  type EventualCacheOptions,
  EventualConsistencyCache,
  type RegionStore,
  type UpdatePublisher,
} from "@meridian/eventual";
import { createRedis, deleteKeysWithPrefix, type Redis } from "@meridian/store";

export const config = configFromEnv();
export const runId = randomUUID().slice(0, 8);
/** Logical DBs the eventual tests use (never FLUSHed; keys are removed by prefix). */
export const TEST_DB = 5;

export const policy: (key: string) => CrdtType = crdtPolicyByPrefix({
  "price:": "lww",
  "position:": "pncounter",
  "watch:": "orset",
  "note:": "mvregister",
});

/** Publisher that records what it was asked to publish (Kafka is exercised in kafka-publish.test.ts). */
export class RecordingPublisher implements UpdatePublisher {
  readonly published: CacheUpdate[] = [];
  failNext = false;
  async publish(update: CacheUpdate): Promise<void> {
    if (this.failNext) {
      this.failNext = false;
      throw new Error("simulated broker outage");
    }
    this.published.push(structuredClone(update));
  }
}

export interface TestRegion extends RegionStore {
  cache: EventualConsistencyCache;
  publisher: RecordingPublisher;
}

const clients: Redis[] = [];
const prefixes: { redis: Redis; prefix: string }[] = [];

export function redisFor(db = TEST_DB): Redis {
  const r = createRedis(config.redisUrl, { db });
  clients.push(r);
  return r;
}

/** `names` regions, each its own prefix (and DB when `dbs` is given). Peers are wired for read-repair. */
export function makeRegions(
  label: string,
  names: string[],
  opts: { dbs?: number[]; cache?: Partial<EventualCacheOptions> } = {},
): TestRegion[] {
  const stores: RegionStore[] = names.map((region, i) => {
    const redis = redisFor(opts.dbs?.[i] ?? TEST_DB);
    const keyPrefix = `mer-ev-${runId}-${label}:${region}:`;
    prefixes.push({ redis, prefix: keyPrefix });
    return { region, redis, keyPrefix };
  });
  const regions = stores.map((store) => {
    const publisher = new RecordingPublisher();
    const cache = new EventualConsistencyCache(store.redis, publisher, {
      region: store.region,
      keyPrefix: store.keyPrefix,
      crdtTypeFor: policy,
      peers: stores.filter((p) => p !== store),
      ...opts.cache,
    });
    return { ...store, cache, publisher };
  });
  return regions;
}

/** Removes every key under `prefix` at cleanup (prefixes a test uses outside makeRegions). */
export function cleanupLater(redis: Redis, prefix: string): string {
  prefixes.push({ redis, prefix });
  return prefix;
}

export async function cleanup(): Promise<void> {
  for (const { redis, prefix } of prefixes.splice(0)) await deleteKeysWithPrefix(redis, prefix);
  for (const r of clients.splice(0)) r.disconnect();
}
