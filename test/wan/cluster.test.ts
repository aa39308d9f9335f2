// The cluster with the WAN layer on (three regions, the realistic latency matrix): critical requests are
// served at home at local speed and forwarded elsewhere (the answer says so); one partition control cuts
// the replicator and the proxies; a cut-off home's keys fail fast elsewhere while other homes' keys work.
import { type Cluster, startCluster } from "@meridian/cluster";
import { configFromEnv } from "@meridian/core";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { get, put, uniqueNamespace } from "../support/pipeline.js";
import { timed } from "./support/wan-env.js";

let cluster: Cluster;
const url = (region: string) => cluster.regions[region]!.url;

beforeAll(async () => {
  cluster = await startCluster({
    namespace: uniqueNamespace("wan"),
    regions: ["us-east", "eu-west", "ap-south"],
    config: configFromEnv(),
    logger: pino({ level: "silent" }),
    marketData: false,
    wan: { homes: { prefixes: { "acct:us": "us-east", "acct:eu": "eu-west" } }, timeoutMs: 1500 },
  });
});
afterAll(async () => {
  await cluster?.stop();
  await cluster?.purge();
});

describe("cluster with the WAN layer", () => {
  it("serves critical keys at home locally and forwards them from other regions, paying the link", async () => {
    const oneWay = cluster.wan!.latency["ap-south"]!["us-east"]!;
    const w = await put(url("us-east"), "critical", "acct:us1", { value: { balance: 5 } });
    expect(w.status).toBe(200);
    expect(w.body.placement).toMatchObject({ home: "us-east", forwarded: false });
    const local = await timed(() => get(url("us-east"), "critical", "acct:us1"));
    expect(local.value.body.placement.forwarded).toBe(false);
    const far = await timed(() => get(url("ap-south"), "critical", "acct:us1"));
    expect(far.value.status).toBe(200);
    expect(far.value.body).toMatchObject({
      value: { balance: 5 },
      placement: { home: "us-east", forwarded: true },
    });
    expect(far.ms).toBeGreaterThan(oneWay);
    expect(far.value.body.placement.forwardMs).toBeGreaterThan(oneWay);
    const rows = await cluster.critical!.pool.query("SELECT version FROM meridian_strong WHERE key = $1", [
      "acct:us1",
    ]);
    expect(Number(rows.rows[0]!.version)).toBe(w.body.version);
  });

  it("one partition control: a cut-off home's keys fail with 503 elsewhere, other homes keep working", async () => {
    await put(url("eu-west"), "critical", "acct:eu1", { value: 1 });
    await put(url("us-east"), "critical", "acct:us2", { value: 2 });
    cluster.partition("eu-west");
    try {
      expect(cluster.wan!.network.partitions()).toEqual(["eu-west"]);
      expect(cluster.replicator.status().partitions).toEqual(["eu-west"]);
      const cut = await timed(() => get(url("ap-south"), "critical", "acct:eu1"));
      expect(cut.value.status).toBe(503);
      expect(cut.value.body.error?.code ?? cut.value.body.code).toBe("BACKEND_UNAVAILABLE");
      expect(cut.ms).toBeLessThan(5000);
      const other = await get(url("ap-south"), "critical", "acct:us2");
      expect(other.body).toMatchObject({ value: 2, placement: { home: "us-east" } });
    } finally {
      cluster.heal("eu-west");
    }
    let status = 0;
    for (let i = 0; i < 30 && status !== 200; i++) {
      status = (await get(url("ap-south"), "critical", "acct:eu1")).status;
      if (status !== 200) await new Promise((r) => setTimeout(r, 100));
    }
    expect(status).toBe(200);
  });
});
