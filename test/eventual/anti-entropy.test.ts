// Anti-entropy between regions' Redis: digest exchange finds what the stream missed and repairs it.
import { BackendUnavailableError } from "@meridian/core";
import {
  AntiEntropy,
  applyRemoteUpdate,
  digestOf,
  EventualConsistencyCache,
  readEntry,
} from "@meridian/eventual";
import { createRedis } from "@meridian/store";
import { afterAll, describe, expect, it } from "vitest";
import {
  cleanup,
  config,
  makeRegions,
  policy,
  RecordingPublisher,
  runId,
  TEST_DB,
  type TestRegion,
} from "./support/eventual-env.js";

afterAll(cleanup);

async function replicate(from: TestRegion, to: TestRegion[]): Promise<void> {
  for (const u of from.publisher.published)
    for (const r of to) await applyRemoteUpdate(r.redis, r.keyPrefix, u);
}

async function digests(regions: TestRegion[], key: string): Promise<(string | null)[]> {
  return Promise.all(
    regions.map(async (r) => {
      const e = await readEntry(r.redis, r.keyPrefix, key);
      return e ? digestOf(e) : null;
    }),
  );
}

describe("AntiEntropy", () => {
  it("repairs a key deliberately deleted from one region, without any new write", async () => {
    const regions = makeRegions("ae-del", ["us-east", "eu-west", "ap-south"]);
    const [a, b] = regions;
    for (let i = 0; i < 40; i++) await a!.cache.setWithEventualConsistency(`price:S${i}`, 100 + i);
    await replicate(a!, regions.slice(1));
    const ae = new AntiEntropy(regions, { buckets: 16 });
    expect(await ae.runOnce()).toMatchObject({ repairedKeys: 0, differingBuckets: 0, comparedBuckets: 16 });

    const published = a!.publisher.published.length;
    expect(await b!.redis.del(`${b!.keyPrefix}e:price:S7`)).toBe(1);
    expect(await readEntry(b!.redis, b!.keyPrefix, "price:S7")).toBeNull();

    const round = await ae.runOnce();
    expect(round).toMatchObject({ repairedKeys: 1, repairs: 1, differingBuckets: 1 });
    expect(new Set(await digests(regions, "price:S7")).size).toBe(1);
    expect((await b!.cache.getWithEventualConsistency("price:S7"))!.value).toBe(107);
    expect(a!.publisher.published.length).toBe(published); // no new write anywhere
    expect(await ae.runOnce()).toMatchObject({ repairedKeys: 0, differingBuckets: 0 });
  });

  it("leaves a cut-off region alone: repairs among the rest, stamps nothing verified, then repairs it once reachable", async () => {
    const regions = makeRegions("ae-cut", ["us-east", "eu-west", "ap-south"]);
    const [a, b, c] = regions;
    await a!.cache.setWithEventualConsistency("price:CUT", 1);
    await replicate(a!, [b!]); // ap-south never heard of it
    let cut: string[] = ["ap-south"];
    const ae = new AntiEntropy(regions, { buckets: 16, unreachable: () => cut });
    await b!.redis.del(`${b!.keyPrefix}e:price:CUT`);
    expect(await ae.runOnce()).toMatchObject({ repairedKeys: 1 });
    expect((await b!.cache.getWithEventualConsistency("price:CUT"))!.value).toBe(1);
    expect(await readEntry(c!.redis, c!.keyPrefix, "price:CUT")).toBeNull();
    for (const r of regions) expect(await r.redis.exists(`${r.keyPrefix}v`)).toBe(0); // the verified-at hash

    cut = ["ap-south", "eu-west"]; // one region left: nothing to compare with
    expect(await ae.runOnce()).toMatchObject({ repairedKeys: 0, comparedBuckets: 0 });

    cut = [];
    expect(await ae.runOnce()).toMatchObject({ repairedKeys: 1 });
    expect(new Set(await digests(regions, "price:CUT")).size).toBe(1);
  });

  it("repairs updates the stream never delivered, and merges copies that diverged concurrently", async () => {
    const regions = makeRegions("ae-missed", ["us-east", "eu-west", "ap-south"]);
    const [a, b, c] = regions;
    await a!.cache.setWithEventualConsistency("position:P", { op: "increment", by: 10 }); // never replicated
    await b!.cache.setWithEventualConsistency("position:P", { op: "increment", by: 5 }); // concurrent, never replicated
    await c!.cache.setWithEventualConsistency("watch:W", { op: "add", element: "AAPL" });
    const ae = new AntiEntropy(regions);
    const round = await ae.runOnce();
    expect(round.repairedKeys).toBe(2);
    for (const key of ["position:P", "watch:W"]) expect(new Set(await digests(regions, key)).size).toBe(1);
    for (const r of regions) expect((await r.cache.getWithEventualConsistency("position:P"))!.value).toBe(15);
    for (const r of regions)
      expect((await r.cache.getWithEventualConsistency("watch:W"))!.value).toEqual(["AAPL"]);
  });

  it("works between regions kept in separate logical DBs, in the background via start()/stop()", async () => {
    const regions = makeRegions("ae-dbs", ["us-east", "eu-west"], { dbs: [6, 7] });
    const [a, b] = regions;
    await a!.cache.setWithEventualConsistency("price:DB", 5);
    const rounds: number[] = [];
    const ae = new AntiEntropy(regions, { intervalMs: 50, onRound: (r) => rounds.push(r.repairedKeys) });
    ae.start();
    const deadline = Date.now() + 10_000;
    while (Date.now() < deadline && !(await readEntry(b!.redis, b!.keyPrefix, "price:DB"))) {
      await new Promise((r) => setTimeout(r, 20));
    }
    await ae.stop();
    expect((await b!.cache.getWithEventualConsistency("price:DB"))!.value).toBe(5);
    expect(rounds.reduce((x, y) => x + y, 0)).toBe(1);
  });

  it("a bucket found equal everywhere marks its keys verified: reads report a small age", async () => {
    let now = 1_000_000;
    const regions = makeRegions("ae-age", ["us-east", "eu-west"], { cache: { now: () => now } });
    const [a, b] = regions;
    await a!.cache.setWithEventualConsistency("price:AGE", 1);
    await replicate(a!, [b!]);
    now += 60_000;
    expect((await b!.cache.getWithEventualConsistency("price:AGE"))!.ageMs).toBe(60_000);
    await new AntiEntropy(regions, { now: () => now }).runOnce();
    now += 25;
    expect((await b!.cache.getWithEventualConsistency("price:AGE"))!.ageMs).toBe(25);
  });

  it("works with regions isolated by the ioredis keyPrefix option (Lua digests see the raw prefix)", async () => {
    const names = ["us-east", "eu-west"];
    const stores = names.map((region) => ({
      region,
      redis: createRedis(config.redisUrl, { db: TEST_DB, keyPrefix: `mer-ev-${runId}-iopfx:${region}:` }),
      keyPrefix: "",
    }));
    try {
      const cache = new EventualConsistencyCache(stores[0]!.redis, new RecordingPublisher(), {
        region: "us-east",
        keyPrefix: "",
        crdtTypeFor: policy,
      });
      await cache.setWithEventualConsistency("position:IO", { op: "increment", by: 4 });
      const ae = new AntiEntropy(stores);
      expect((await ae.runOnce()).repairedKeys).toBe(1);
      expect((await readEntry(stores[1]!.redis, "", "position:IO"))!.crdt.value()).toBe(4);
      expect((await ae.runOnce()).differingBuckets).toBe(0);
    } finally {
      // Remove this test's keys with a plain client (KEYS/SCAN patterns ignore ioredis' keyPrefix).
      const raw = createRedis(config.redisUrl, { db: TEST_DB });
      const mine = await raw.keys(`mer-ev-${runId}-iopfx:*`);
      if (mine.length > 0) await raw.del(...mine);
      raw.disconnect();
      for (const s of stores) s.redis.disconnect();
    }
  });

  it("a background round that cannot reach a region is counted and reported, and later rounds go on", async () => {
    const [a] = makeRegions("ae-dead", ["us-east"]);
    const dead = createRedis("redis://127.0.0.1:1", {});
    dead.on("error", () => {});
    const errors: unknown[] = [];
    const ae = new AntiEntropy([a!, { region: "eu-west", redis: dead, keyPrefix: "x:" }], {
      intervalMs: 30,
      onError: (e) => errors.push(e),
    });
    ae.start();
    const deadline = Date.now() + 15_000;
    while (Date.now() < deadline && ae.stats.failures < 2) await new Promise((r) => setTimeout(r, 20));
    await ae.stop();
    dead.disconnect();
    expect(ae.stats.failures).toBeGreaterThanOrEqual(2);
    expect(ae.stats.rounds).toBe(0);
    expect(errors.length).toBe(ae.stats.failures);
    expect(ae.stats.lastError).toBeInstanceOf(BackendUnavailableError);
  });
});
