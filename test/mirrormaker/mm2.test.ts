// Meridian on one Kafka cluster per region, replicated by Kafka's MirrorMaker 2 instead of the built-in
// replicator: two private KRaft clusters (Kafka 4, 256 MiB heaps) and MM2 (connect-mirror, dedicated
// mode) started by the project's infra scripts. Each region node publishes to its own cluster; each
// invalidation consumer (MERIDIAN_REPLICATION=mirrormaker) reads the other region's remote topic from its
// own cluster. Writes in either region converge in the other. Memory: the three JVMs' resident sizes are
// measured and printed (about 1 GiB in all).
import { stateFingerprint } from "@meridian/cluster";
import { configFromEnv } from "@meridian/core";
import {
  type InvalidationConsumerHandle,
  remoteUpdateTopics,
  startInvalidationConsumer,
} from "@meridian/invalidation-consumer";
import { type RegionNodeHandle, startRegionNode } from "@meridian/region-node";
import { resolveLayout } from "@meridian/service-kit";
import { createRedis, type Redis } from "@meridian/store";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { get, put, uniqueNamespace } from "../support/pipeline.js";
import {
  type PrivateKafka,
  type PrivateServer,
  startMirrorMaker,
  startPrivateKafka,
} from "../support/private-kafka.js";

const REGIONS = ["us-east", "eu-west"] as const;
const ns = uniqueNamespace("mm2");
const layout = resolveLayout({ regions: [...REGIONS], namespace: ns });
const kafka: Record<string, PrivateKafka> = {};
let mm2: PrivateServer | undefined;
let mirror: Promise<PrivateServer> | undefined;
const nodes: Record<string, RegionNodeHandle> = {};
const consumers: Record<string, InvalidationConsumerHandle> = {};
const redis: Record<string, Redis> = {};

const regionConfig = (region: string) => ({ ...configFromEnv(), kafkaBrokers: [kafka[region]!.brokers] });

async function startRegion(r: string): Promise<void> {
  const config = regionConfig(r);
  redis[r] = createRedis(config.redisUrl, { db: layout.redisDbs[r]! });
  const common = { region: r, config, regions: [...REGIONS], namespace: ns };
  nodes[r] = await startRegionNode({ ...common, port: 0 });
  consumers[r] = await startInvalidationConsumer({ ...common, port: null, replication: "mirrormaker" });
  await consumers[r]!.ready();
}

beforeAll(async () => {
  const t0 = Date.now();
  const clusters = await Promise.all(REGIONS.map(() => startPrivateKafka("256m")));
  REGIONS.forEach((r, i) => {
    kafka[r] = clusters[i]!;
  });
  const t1 = Date.now();
  // The services create their topics (origin updates, MM2's remote ones) while MM2 starts.
  mirror = startMirrorMaker(Object.fromEntries(REGIONS.map((r) => [r, kafka[r]!.brokers])), ns, "256m");
  await Promise.all(REGIONS.map(startRegion));
  mm2 = await mirror;
  const t2 = Date.now();
  // "MirrorMaker started" precedes its first topic scan: one write per region shows the flows are running.
  for (const r of REGIONS) await put(nodes[r]!.url, "important", "pos:MM2WARM", { op: "increment", by: 1 });
  await untilConverged(["pos:MM2WARM"], 90_000);
  console.log(
    `set-up: two brokers ${t1 - t0} ms, services + MirrorMaker 2 ${t2 - t1} ms, first replication ${Date.now() - t2} ms`,
  );
}, 300_000);

afterAll(async () => {
  await Promise.all(Object.values(consumers).map((c) => c.stop()));
  await Promise.all(Object.values(nodes).map((n) => n.stop()));
  for (const r of Object.values(redis)) r.disconnect();
  await (mm2 ?? (await mirror?.catch(() => undefined)))?.stop();
  await Promise.all(Object.values(kafka).map((k) => k.stop()));
}, 120_000);

async function converged(keys: readonly string[]): Promise<boolean> {
  for (const key of keys) {
    const [a, b] = await Promise.all(REGIONS.map((r) => stateFingerprint(redis[r]!, layout.keyPrefix, key)));
    if (a === null || a !== b) return false;
  }
  return true;
}

async function untilConverged(keys: readonly string[], timeoutMs: number): Promise<number> {
  const t0 = Date.now();
  while (!(await converged(keys))) {
    if (Date.now() - t0 > timeoutMs)
      throw new Error(`${keys.join(",")} not converged through MM2 in ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return Date.now() - t0;
}

describe("two Kafka clusters + MirrorMaker 2", () => {
  it("consumers read MM2's remote topics", () => {
    expect(remoteUpdateTopics(layout, "eu-west")).toEqual([`us-east.${ns}.meridian.us-east.updates`]);
  });

  it("converges writes made in either region through MM2", async () => {
    const keys = ["pos:MM2A", "pos:MM2B", "md:MM2"];
    for (let i = 0; i < 20; i++) {
      const region = REGIONS[i % 2]!;
      const key = keys[i % 2]!;
      expect((await put(nodes[region]!.url, "important", key, { op: "increment", by: 1 })).status).toBe(200);
    }
    expect((await put(nodes["us-east"]!.url, "important", "md:MM2", { value: 101.5 })).status).toBe(200);
    const ms = await untilConverged(keys, 30_000);
    for (const r of REGIONS) {
      expect((await get(nodes[r]!.url, "important", "pos:MM2A")).body.value).toBe(10);
      expect((await get(nodes[r]!.url, "important", "md:MM2")).body.value).toBe(101.5);
    }
    const rss = { brokers: REGIONS.map((r) => kafka[r]!.rssMiB()), mirrorMaker: mm2!.rssMiB() };
    console.log(`MM2 convergence ${ms} ms after the last write; resident memory MiB ${JSON.stringify(rss)}`);
  });
});
