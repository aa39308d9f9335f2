// A region's invalidation consumer hit by the non-retriable kafkajs crash seen in production
// (UNKNOWN_MEMBER_ID on an offset commit, `restart: false`), twice, against the real broker: the
// supervisor restarts it, the region keeps applying other regions' writes, and the restarts show in
// /metrics. Anti-entropy is off so only the consumer can bring the writes in.
import { createKafka } from "@meridian/bus";
import { type Cluster, startCluster } from "@meridian/cluster";
import { configFromEnv } from "@meridian/core";
import { type InvalidationConsumerHandle, startInvalidationConsumer } from "@meridian/invalidation-consumer";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { crashingKafka } from "../support/kafka-faults.js";
import { get, mustPut, sleep, stopAndPurge, uniqueNamespace } from "../support/pipeline.js";

const VICTIM = "eu-west";

async function readsValue(url: string, key: string, value: string, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const read = await get(url, "important", key);
    if (read.status === 200 && read.body?.value === value) return true;
    await sleep(50);
  }
  return false;
}

describe("supervised invalidation consumer", () => {
  let cluster: Cluster;
  let consumer: InvalidationConsumerHandle | undefined;

  beforeAll(async () => {
    cluster = await startCluster({
      namespace: uniqueNamespace("supervise"),
      marketData: false,
      critical: false,
      antiEntropy: false,
      latencyMs: 0,
      externalConsumers: [VICTIM],
    });
  });

  afterAll(async () => {
    await consumer?.stop();
    await stopAndPurge(cluster);
  });

  it("restarts after non-retriable crashes and the region keeps applying updates", async () => {
    const config = configFromEnv();
    const faults = crashingKafka(createKafka(config, `supervise-${cluster.namespace}`), 2);
    await mustPut(cluster.regions["us-east"]!.url, "px:before", { value: "written before the crashes" });
    consumer = await startInvalidationConsumer({
      ...cluster.layout,
      region: VICTIM,
      config,
      kafka: faults.kafka,
      logger: pino({ level: "silent" }),
    });
    const victimUrl = cluster.regions[VICTIM]!.url;
    expect(await readsValue(victimUrl, "px:before", "written before the crashes", 30_000)).toBe(true);
    expect(faults.injected()).toBe(2);
    expect(consumer.health().restarts).toBe(2);

    await mustPut(cluster.regions["us-west"]!.url, "px:after", { value: "written after the crashes" });
    expect(await readsValue(victimUrl, "px:after", "written after the crashes", 15_000)).toBe(true);
    expect(consumer.health()).toMatchObject({ state: "running", stalled: false });
    const metrics = await (await fetch(`${consumer.url}/metrics`)).text();
    expect(metrics).toMatch(/^meridian_consumer_restarts_total\{[^}]*region="eu-west"[^}]*\} 2$/m);
    expect(metrics).toMatch(/^meridian_consumer_stalled\{[^}]*\} 0$/m);
  });
});
