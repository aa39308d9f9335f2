// The monitor over the real strong tier (PostgreSQL + five regions' Redis, StrongConsistencyCache):
// with correct caches, sampled reads never find a stale version and the suites' histories are
// linearizable; a write through a deliberately broken cache (no invalidation of other regions) leaves a
// stale copy that the sampler finds, the strong-violation alert fires and the report shows both.
import { randomUUID } from "node:crypto";
import type pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createPrivateSchema, type PrivateSchema } from "../../bench/lib/pg-schema.js";
import { configFromEnv, REGIONS, type Region } from "../../packages/core/src/index.js";
import { LockManager } from "../../packages/locks/src/index.js";
import {
  ConsistencyMonitor,
  MemoryAlertSink,
  renderReportHtml,
  strongCacheTarget,
  versionedStoreProbe,
} from "../../packages/monitor/src/index.js";
import {
  connectRegionRedis,
  RegionCache,
  StrongConsistencyCache,
  StrongTable,
} from "../../packages/strong/src/index.js";

const cfg = configFromEnv();
const run = randomUUID().slice(0, 8);
const schema = `monitor_strong_${run}`;
const keyPrefix = `test:monitor:${run}:`;
let db: PrivateSchema | undefined;
let pool: pg.Pool;
let redis: Record<Region, import("ioredis").Redis>;
let caches: Record<Region, StrongConsistencyCache>;
let broken: StrongConsistencyCache;
let locks: LockManager;
const written = new Set<string>();

function newMonitor(sink: MemoryAlertSink) {
  const monitor = new ConsistencyMonitor(
    {
      regions: REGIONS,
      strong: versionedStoreProbe({
        table: new StrongTable(pool),
        caches: Object.fromEntries(REGIONS.map((r) => [r, new RegionCache(r, redis[r], keyPrefix)])),
        keys: () => [...written],
      }),
      kv: strongCacheTarget(caches),
    },
    { strong: { samplesPerTick: 10, confirmDelayMs: 100 } },
  );
  monitor.alerts.addSink(sink);
  return monitor;
}

beforeAll(async () => {
  db = await createPrivateSchema(cfg.pgUrl, schema, 10);
  pool = db.pool;
  redis = connectRegionRedis(cfg.redisUrl);
  locks = new LockManager(redis["us-east"], { prefix: `${keyPrefix}lock:`, watchdog: false });
  // blind = knows no peer region, so a write invalidates only its own copy: the broken cache to catch.
  const make = (region: Region, blind = false) =>
    new StrongConsistencyCache(redis[region], pool, {
      region,
      peers: blind ? { [region]: redis[region] } : redis,
      keyPrefix,
      locks,
    });
  caches = Object.fromEntries(REGIONS.map((r) => [r, make(r)])) as Record<Region, StrongConsistencyCache>;
  broken = make("us-east", true);
  await caches["us-east"].init();
});

afterAll(async () => {
  for (const r of REGIONS) {
    const keys = await redis[r].keys(`${keyPrefix}*`);
    if (keys.length > 0) await redis[r].del(...keys);
    redis[r].disconnect();
  }
  await db?.drop();
});

describe("monitor over the real strong tier", () => {
  it("nothing injected: sampled reads are never stale, suites are linearizable, zero violations", async () => {
    const sink = new MemoryAlertSink();
    const monitor = newMonitor(sink);
    const until = Date.now() + 3000;
    let i = 0;
    while (Date.now() < until) {
      const key = `acct:${i % 10}`;
      written.add(key);
      await caches[REGIONS[i % REGIONS.length]!].setWithStrongConsistency(key, { balance: i });
      // Fill other regions' caches so the sampler compares real cached copies.
      await Promise.all(REGIONS.map((r) => caches[r].getWithStrongConsistency(key)));
      if (i % 5 === 0) await monitor.tick();
      i++;
    }
    for (let t = 0; t < 5; t++) await monitor.tick();
    const suites = await monitor.runConsistencyTests({
      keyPrefix: `suite:${run}:`,
      clients: 6,
      opsPerClient: 25,
      stressDurationMs: 1500,
      stressClients: 8,
    });
    expect(suites.suites.map((s) => [s.name, s.linearizable])).toEqual([
      ["race", true],
      ["stress", true],
    ]);
    expect(monitor.metrics.registry.getSingleMetric("meridian_consistency_checks_total")).toBeDefined();
    const report = monitor.generateConsistencyReport();
    expect(report.violations.operations).toBeGreaterThan(50);
    expect(report.violations.total).toBe(0);
    expect(sink.events).toEqual([]);
    expect(report.verdict).toBe("pass");
  });

  it("an injected stale read (write without invalidation) is found, alerted and reported", async () => {
    const sink = new MemoryAlertSink();
    const monitor = newMonitor(sink);
    const key = `acct:stale:${run}`;
    written.clear();
    written.add(key);
    await caches["us-east"].setWithStrongConsistency(key, { balance: 100 });
    const before = await caches["eu-west"].getWithStrongConsistency(key); // eu-west caches version 1
    expect(before.version).toBe(1);
    await broken.setWithStrongConsistency(key, { balance: 0 }); // version 2; eu-west keeps version 1
    const stale = await caches["eu-west"].getWithStrongConsistency(key);
    expect(stale.version).toBe(1); // the bug is real: the cache serves the old balance

    for (let t = 0; t < 40 && monitor.violations.countOf("stale_strong_read") === 0; t++)
      await monitor.tick();
    const found = monitor.violations.list().filter((v) => v.kind === "stale_strong_read");
    expect(found.length).toBeGreaterThan(0);
    // Regions that were invalidated or never cached the key serve nothing stale; eu-west does.
    expect(new Set(found.map((v) => v.region))).toEqual(new Set(["eu-west"]));
    expect(found[0]!.details).toMatchObject({ dbVersion: 2, cacheVersion: 1 });
    expect(sink.events.map((e) => [e.rule, e.status])).toContainEqual([
      "MeridianStrongConsistencyViolation",
      "firing",
    ]);
    const report = monitor.generateConsistencyReport();
    expect(report.verdict).toBe("fail");
    const html = renderReportHtml(report);
    expect(html).toContain("MeridianStrongConsistencyViolation");
    expect(html).toContain("stale_strong_read");
    expect(html).toContain(key);
  });
});
