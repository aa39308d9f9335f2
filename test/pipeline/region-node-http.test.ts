// The region node's HTTP contract, per data class, against real Kafka, Redis and PostgreSQL: typed 400s
// for bad input, cacheable entries bounded by their TTL, critical data linearizable across regions via
// the StrongConsistencyCache, and every service's /healthz and /metrics.

import { readFileSync } from "node:fs";
import { join } from "node:path";
import { type Cluster, startCluster } from "@meridian/cluster";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AUTH_HEADERS, get, put, ROOT, sleep, stopAndPurge, uniqueNamespace } from "../support/pipeline.js";

describe("region node HTTP API", () => {
  let cluster: Cluster;
  let east: string;
  let west: string;

  beforeAll(async () => {
    cluster = await startCluster({
      namespace: uniqueNamespace("http"),
      marketData: { symbols: 3, ticksPerSecond: 5 },
      cacheableTtlMs: 400,
    });
    east = cluster.regions["us-east"]!.url;
    west = cluster.regions["eu-west"]!.url;
  });

  afterAll(() => stopAndPurge(cluster));

  it.each([
    ["PUT", "/v1/urgent/px:1", { value: 1 }, "class"],
    ["PUT", "/v1/important/bad key", { value: 1 }, "key"],
    ["PUT", "/v1/important/px:1", "not-an-object", "body"],
    ["PUT", "/v1/important/px:1", { nothing: 1 }, "value"],
    ["PUT", "/v1/important/pos:1", { op: "increment", by: -3 }, "by"],
    ["PUT", "/v1/important/watch:1", { op: "toggle" }, "op"],
    ["PUT", "/v1/cacheable/pref:1", { value: 1, ttlMs: 10_000_000 }, "ttlMs"],
    ["PUT", "/v1/critical/bal:1", { amount: 1 }, "value"],
    ["GET", "/v1/important/px:1?maxAgeMs=-1", undefined, "maxAgeMs"],
  ])("%s %s → 400 with a typed error naming the bad field", async (method, path, body, field) => {
    const res = await fetch(`${east}${path.replace("bad key", "bad%20key")}`, {
      method,
      headers: AUTH_HEADERS,
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    expect(res.status).toBe(400);
    const json = (await res.json()) as {
      error: { code: string; message: string; details: { field?: string } };
    };
    expect(json.error.code).toBe("INVALID_INPUT");
    expect(json.error.message.length).toBeGreaterThan(0);
    expect(json.error.details.field).toBe(field);
  });

  it("answers invalid JSON with 400 and a missing key with 404", async () => {
    const bad = await fetch(`${east}/v1/important/px:1`, {
      method: "PUT",
      body: "{oops",
      headers: AUTH_HEADERS,
    });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: { code: string } }).error.code).toBe("INVALID_INPUT");
    const missing = await get(east, "important", "px:never-written");
    expect(missing.status).toBe(404);
    expect(missing.body.error.code).toBe("NOT_FOUND");
  });

  it("cacheable: served with its age while younger than the TTL, gone after it, bound enforced", async () => {
    const w = await put(east, "cacheable", "pref:theme", { value: "dark", ttlMs: 10_000 });
    expect(w.status).toBe(200);
    const r = await get(east, "cacheable", "pref:theme");
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ value: "dark", region: "us-east", class: "cacheable" });
    expect(r.body.ageMs).toBeLessThan(10_000);
    await sleep(60);
    const tooOld = await fetch(`${east}/v1/cacheable/pref:theme?maxAgeMs=10`);
    expect(tooOld.status).toBe(412);
    expect(((await tooOld.json()) as { error: { code: string } }).error.code).toBe("STALENESS_BOUND");
    // Weak data is regional: another region never saw it.
    expect((await get(west, "cacheable", "pref:theme")).status).toBe(404);
    // The cluster's default TTL (400 ms here) bounds staleness: the entry is gone after it.
    expect((await put(east, "cacheable", "pref:short", { value: 1 })).status).toBe(200);
    await sleep(700);
    expect((await get(east, "cacheable", "pref:short")).status).toBe(404);
  });

  it("critical: a write in one region is read, with its version, in every other region at once", async () => {
    const first = await put(east, "critical", "bal:acct1", { value: { balance: 100 } });
    expect(first.status).toBe(200);
    expect(first.body).toMatchObject({ class: "critical", version: 1 });
    const readWest = await get(west, "critical", "bal:acct1");
    expect(readWest.body).toMatchObject({ value: { balance: 100 }, version: 1, region: "eu-west" });
    const second = await put(west, "critical", "bal:acct1", { value: { balance: 90 } });
    expect(second.body.version).toBe(2);
    // No stale read anywhere after the acknowledgement: the old copies were invalidated before it.
    for (const h of Object.values(cluster.regions)) {
      const r = await get(h.url, "critical", "bal:acct1");
      expect(r.body).toMatchObject({ value: { balance: 90 }, version: 2 });
    }
    const tooNew = await fetch(`${east}/v1/critical/bal:acct1?minVersion=7`);
    expect(tooNew.status).toBe(412);
  });

  it("every service answers /healthz and exposes meridian_ metrics", async () => {
    const region = cluster.regions["us-east"]!;
    const urls = [region.url, region.consumer!.url!, cluster.replicator.url!, cluster.marketData!.url!];
    for (const url of urls) {
      const health = await fetch(`${url}/healthz`);
      expect(health.status, url).toBe(200);
      expect(await health.json()).toMatchObject({ status: "ok" });
    }
    const nodeMetrics = await (await fetch(`${region.url}/metrics`)).text();
    expect(nodeMetrics).toMatch(/meridian_http_requests_total\{[^}]*class="critical"[^}]*status="200"/);
    // The embedded client's L1 counters, on the same registry.
    expect(nodeMetrics).toMatch(/meridian_client_l1_hits_total\{[^}]*class="critical"/);
    expect(await (await fetch(`${cluster.replicator.url}/metrics`)).text()).toContain(
      "meridian_replicator_forwarded_total",
    );
    expect(await (await fetch(`${region.consumer!.url}/metrics`)).text()).toContain(
      "meridian_convergence_lag_seconds",
    );
    await sleep(500);
    expect(await (await fetch(`${cluster.marketData!.url}/metrics`)).text()).toMatch(
      /meridian_market_ticks_produced_total\{[^}]*\} [1-9]/,
    );
  });

  it("serves the OpenAPI document checked in as services/region-node/openapi.json, and its routes exist", async () => {
    const live = (await (await fetch(`${east}/openapi.json`)).json()) as { paths: Record<string, object> };
    expect(live).toEqual(JSON.parse(readFileSync(join(ROOT, "services/region-node/openapi.json"), "utf8")));
    const info = await fetch(`${east}/v1/info`);
    expect(info.status).toBe(200);
    expect(Object.keys(live.paths)).toContain("/v1/info");
    expect(Object.keys(live.paths)).toContain("/v1/{class}/{key}");
  });

  it("refuses a write without the bearer token with 401 and a WWW-Authenticate challenge", async () => {
    const res = await fetch(`${east}/v1/important/px:noauth`, { method: "PUT", body: '{"value":1}' });
    expect(res.status).toBe(401);
    expect(res.headers.get("www-authenticate")).toMatch(/^Bearer /);
    const admin = await fetch(`${cluster.replicator.url}/admin/partition/us-east`, { method: "POST" });
    expect(admin.status).toBe(401);
    expect(cluster.replicator.status().partitions).toEqual([]);
  });
});
