// Two region nodes of one region (sharing the region's Redis) serve `cacheable` data from coherent
// in-process L1s: a write through one node invalidates the other's L1 copy over Redis pub/sub, so the
// other's next read sees the write; entries still vanish after their TTL.
import { createKafka } from "@meridian/bus";
import { configFromEnv } from "@meridian/core";
import { createRegionNode, type RegionNode } from "@meridian/region-node";
import { pipelineTopicNames, resolveLayout } from "@meridian/service-kit";
import { createRedis, deleteKeysWithPrefix } from "@meridian/store";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sleep, uniqueNamespace } from "../support/pipeline.js";

const REGION = "us-east";

describe("region node: coherent cacheable L1 across two nodes of one region", () => {
  const config = configFromEnv();
  const namespace = uniqueNamespace("coh");
  const layout = resolveLayout({ namespace });
  let a: RegionNode;
  let b: RegionNode;

  beforeAll(async () => {
    a = await createRegionNode({ region: REGION, config, namespace, cacheableTtlMs: 400, nodeId: "node-a" });
    b = await createRegionNode({ region: REGION, config, namespace, cacheableTtlMs: 400, nodeId: "node-b" });
  });

  afterAll(async () => {
    await a?.close();
    await b?.close();
    const redis = createRedis(config.redisUrl, { db: layout.redisDbs[REGION]! });
    try {
      await deleteKeysWithPrefix(redis, layout.keyPrefix);
    } finally {
      redis.disconnect();
    }
    const admin = createKafka(config, `coh-test-purge-${namespace}`).admin();
    await admin.connect();
    try {
      const existing = new Set(await admin.listTopics());
      const topics = pipelineTopicNames(layout).filter((t) => existing.has(t));
      if (topics.length) await admin.deleteTopics({ topics, timeout: 10_000 });
    } finally {
      await admin.disconnect();
    }
  });

  it("uses the coherent near cache by default", () => {
    expect(a.coherentCacheable).toBeDefined();
    expect(b.coherentCacheable).toBeDefined();
    expect(a.coherentCacheable!.near.nodeId).not.toBe(b.coherentCacheable!.near.nodeId);
  });

  it("a write through node A is seen by node B's next read, not B's stale L1 copy", async () => {
    await a.set("cacheable", "pref:theme", { value: "dark", ttlMs: 10_000 });
    expect((await b.get("cacheable", "pref:theme"))?.value).toBe("dark");
    // B now holds the line in its L1: a second read does not go to Redis.
    const hitsBefore = b.coherentCacheable!.near.stats.l1Hits;
    expect((await b.get("cacheable", "pref:theme"))?.value).toBe("dark");
    expect(b.coherentCacheable!.near.stats.l1Hits).toBe(hitsBefore + 1);

    const invBefore = b.coherentCacheable!.near.stats.invalidationsReceived;
    await a.set("cacheable", "pref:theme", { value: "light", ttlMs: 10_000 });
    // A's write returned only after B acknowledged the invalidation A sent it.
    expect(b.coherentCacheable!.near.stats.invalidationsReceived).toBeGreaterThan(invBefore);
    const r = await b.get("cacheable", "pref:theme");
    expect(r).toMatchObject({ value: "light", class: "cacheable", region: REGION });

    // And the other direction, through several rounds.
    for (let i = 0; i < 5; i++) {
      await b.set("cacheable", "pref:n", { value: i, ttlMs: 10_000 });
      expect((await a.get("cacheable", "pref:n"))?.value).toBe(i);
      await a.set("cacheable", "pref:n", { value: i + 100, ttlMs: 10_000 });
      expect((await b.get("cacheable", "pref:n"))?.value).toBe(i + 100);
    }
  });

  it("keeps the TTL bound: an entry is gone from both nodes after its TTL", async () => {
    await a.set("cacheable", "pref:short", { value: 1 });
    expect((await b.get("cacheable", "pref:short"))?.value).toBe(1);
    expect((await a.get("cacheable", "pref:short"))?.value).toBe(1);
    await sleep(500);
    expect(await a.get("cacheable", "pref:short")).toBeNull();
    expect(await b.get("cacheable", "pref:short")).toBeNull();
  });
});
