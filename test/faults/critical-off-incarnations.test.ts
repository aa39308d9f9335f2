// A region node run with MERIDIAN_CRITICAL=off (no strong tier) whose Redis loses its data must not reuse
// the vector-clock counters it already issued: after the restart its writes count under a new writer
// incarnation drawn from PostgreSQL (`<region>~<n>`), which the other regions merge instead of dropping
// as dominated. Without PostgreSQL such a node refuses to start (typed error, bounded).
import { randomUUID } from "node:crypto";
import { createKafka } from "@meridian/bus";
import { freePort, type RedisServerProcess, startRedisServer } from "@meridian/cluster";
import { BackendUnavailableError, configFromEnv } from "@meridian/core";
import { type NodeFromEnv, startRegionNodeFromEnv } from "@meridian/region-node";
import { pipelineTopicNames, resolveLayout } from "@meridian/service-kit";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { uniqueNamespace } from "../support/pipeline.js";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const config = configFromEnv();
const namespace = uniqueNamespace("incoff");
const schema = `incoff_${randomUUID().slice(0, 8)}`;
let server: RedisServerProcess;
let node: NodeFromEnv | undefined;

const nodeEnv = (redisUrl: string, pgUrl = config.pgUrl): NodeJS.ProcessEnv => ({
  ...process.env,
  MERIDIAN_REGION: "us-east",
  MERIDIAN_CRITICAL: "off",
  MERIDIAN_NAMESPACE: namespace,
  MERIDIAN_REDIS_URL: redisUrl,
  MERIDIAN_PG_URL: pgUrl,
  MERIDIAN_PG_SCHEMA: schema,
  MERIDIAN_PORT: "0",
});

beforeAll(async () => {
  server = await startRedisServer();
});
afterAll(async () => {
  await node?.stop().catch(() => {});
  await server?.stop();
  const admin = new pg.Pool({ connectionString: config.pgUrl, max: 1 });
  await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`).catch(() => {});
  await admin.end();
  const kafka = createKafka(config, `incoff-purge-${namespace}`).admin();
  await kafka.connect();
  try {
    const existing = new Set(await kafka.listTopics());
    const topics = pipelineTopicNames(resolveLayout({ namespace })).filter((t) => existing.has(t));
    if (topics.length) await kafka.deleteTopics({ topics, timeout: 10_000 });
  } finally {
    await kafka.disconnect();
  }
});

/** A write retried while the node's connections find the restarted server again. */
async function increment(n: NodeFromEnv, key: string): Promise<void> {
  const end = Date.now() + 20_000;
  for (;;) {
    try {
      await n.handle.node.set("important", key, { op: "increment", by: 1 });
      return;
    } catch (err) {
      if (Date.now() > end) throw err;
      await sleep(100);
    }
  }
}

describe("writer incarnations with MERIDIAN_CRITICAL=off", () => {
  it("a region whose Redis restarted empty writes under a new incarnation, never reusing a counter", async () => {
    node = await startRegionNodeFromEnv(nodeEnv(server.url));
    const key = "counter:incoff";
    await increment(node, key);
    await increment(node, key);
    const before = (await node.handle.node.get("important", key))!;
    expect(before.version).toEqual({ "us-east": 2 });

    await server.restartEmpty();
    await increment(node, key);
    const after = (await node.handle.node.get("important", key))!;
    // The old node "us-east" counted 1, 2; reusing "us-east":1 would look dominated to every other region.
    expect(Object.keys(after.version as object)).not.toContain("us-east");
    const [writer, counter] = Object.entries(after.version as Record<string, number>)[0]!;
    expect(writer).toMatch(/^us-east~[1-9]\d*$/);
    expect(counter).toBe(1);

    // The incarnation came from PostgreSQL, in the node's schema (where the critical table would live).
    const admin = new pg.Pool({ connectionString: config.pgUrl, max: 1 });
    try {
      const rows = await admin.query(`SELECT namespace, n FROM ${schema}.meridian_writer_incarnations`);
      expect(rows.rows.map((r) => Number(r.n))).toContain(Number(writer.split("~")[1]));
    } finally {
      await admin.end();
    }
  });

  it("without a reachable PostgreSQL the node refuses to start, with a typed error, quickly", async () => {
    const deadPg = `postgres://postgres@127.0.0.1:${await freePort()}/postgres`;
    const t0 = Date.now();
    await expect(startRegionNodeFromEnv(nodeEnv(server.url, deadPg))).rejects.toBeInstanceOf(
      BackendUnavailableError,
    );
    expect(Date.now() - t0).toBeLessThan(10_000);
  });
});
