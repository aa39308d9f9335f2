// Real Redis (five regions = five logical DBs 1..5 of one server) and a private PostgreSQL schema per run.
import { randomUUID } from "node:crypto";
import { configFromEnv, REGIONS, type Region } from "@meridian/core";
import { LockManager, pgFenceEpochs } from "@meridian/locks";
import { connectRegionRedis, type StrongCacheOptions, StrongConsistencyCache } from "@meridian/strong";
import type { Redis } from "ioredis";
import type pg from "pg";
import { createPrivateSchema } from "../../bench/lib/pg-schema.js";

/** `redis`: one client per region (default: the shared server's DBs; the fault tests pass private servers). */
export async function strongTestEnv(label: string, poolSize = 10, redis?: Record<Region, Redis>) {
  const cfg = configFromEnv();
  const run = randomUUID().slice(0, 8);
  const keyPrefix = `test:${label}:${run}:`;
  const db = await createPrivateSchema(cfg.pgUrl, `strong_${label}_${run}`, poolSize);
  const { pool, admin } = db;
  redis ??= connectRegionRedis(cfg.redisUrl);
  // Locks are global: one lock space on the us-east server for every region.
  const locks = new LockManager(redis["us-east"], {
    prefix: `${keyPrefix}lock:`,
    watchdog: false,
    fenceEpochs: pgFenceEpochs(pool),
  });
  const cache = (region: Region, extra: Partial<StrongCacheOptions> = {}) =>
    new StrongConsistencyCache(redis[region], pool, { region, peers: redis, keyPrefix, locks, ...extra });
  /** The deliberately broken cache of the checker tests: it knows no peer, so it invalidates only its own copy. */
  const blindCache = (region: Region) => cache(region, { peers: { [region]: redis[region] } });
  await cache("us-east").init();
  return {
    blindCache,
    schema: db.name,
    keyPrefix,
    admin,
    pool,
    redis,
    locks,
    cache,
    async cleanup() {
      for (const r of REGIONS) {
        if (redis[r].status !== "ready") {
          redis[r].disconnect();
          continue;
        }
        const keys = await redis[r].keys(`${keyPrefix}*`);
        if (keys.length > 0) await redis[r].del(...keys);
        redis[r].disconnect();
      }
      await db.drop();
    },
  };
}

/**
 * Fault injection in the real database, for the run's schema (the pool's search_path): a deferred
 * trigger that, at COMMIT, fails the transaction when a written value has `poison` and ends its
 * connection when it has `kill`.
 */
export async function installCommitFaults(pool: pg.Pool): Promise<void> {
  await pool.query(`
    CREATE FUNCTION fail_at_commit() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      IF NEW.value ? 'poison' THEN RAISE EXCEPTION 'injected commit failure'; END IF;
      IF NEW.value ? 'kill' THEN PERFORM pg_terminate_backend(pg_backend_pid()); END IF;
      RETURN NEW;
    END $$;
    CREATE CONSTRAINT TRIGGER fail_at_commit AFTER INSERT OR UPDATE ON meridian_strong
      DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION fail_at_commit();`);
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
