// The strong tier's test environment (five regions = logical DBs 10..14, a private PostgreSQL schema)
// plus clients of @meridian/client on its key prefix.
import { createMeridianClient, type MeridianClient, type MeridianClientOptions } from "@meridian/client";
import { REGIONS, type Region } from "@meridian/core";
import { applyRemoteUpdate, type CacheUpdate, type UpdatePublisher } from "@meridian/eventual";
import { strongTestEnv } from "../../support/strong-env.js";

export async function clientTestEnv(label: string, poolSize = 20) {
  const base = await strongTestEnv(`client_${label}`, poolSize);
  const { redis, keyPrefix, pool } = base;
  const clients: MeridianClient[] = [];
  const importantPrefix = (r: Region) => `${keyPrefix}ev:${r}:`;
  /** Stands in for the replicator + invalidation consumers: applies every update to the other regions' L2. */
  const replicate = (from: Region): UpdatePublisher => ({
    async publish(update: CacheUpdate) {
      await Promise.all(
        REGIONS.filter((r) => r !== from).map((r) =>
          applyRemoteUpdate(redis[r], importantPrefix(r), update, { localRegion: r }),
        ),
      );
    },
  });
  const client = async (region: Region, extra: Partial<MeridianClientOptions> = {}) => {
    const c = await createMeridianClient({
      region,
      critical: { pg: pool, keyPrefix, leaseMs: 1000 },
      important: { keyPrefix: importantPrefix(region), publisher: replicate(region) },
      cacheable: { keyPrefix },
      ...extra,
    });
    clients.push(c);
    return c;
  };
  return {
    ...base,
    client,
    importantPrefix,
    async cleanup() {
      await Promise.all(clients.map((c) => c.close().catch(() => {})));
      await base.cleanup();
    },
  };
}

export { sleep } from "../../support/strong-env.js";
