// The processes topology (startProcessCluster): five region-node processes, five invalidation-consumer
// processes, the replicator and the market-data producer as separate OS processes, and one private
// redis-server per region. Writes in every region converge in every region's own Redis; a critical write
// invalidates the copies held by the other regions' servers; killing one region's Redis is a failure of
// that region alone. The monitor service (`meridian monitor`) watches the same processes, and every
// metric the Grafana dashboards and the alert rules query is on the live /metrics of these services.
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { type MonitorService, startMonitorService } from "@meridian/cli";
import { type ProcessCluster, startProcessCluster } from "@meridian/cluster";
import { configFromEnv } from "@meridian/core";
import { resolveLayout } from "@meridian/service-kit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { get, put, ROOT, uniqueNamespace } from "../support/pipeline.js";

let cluster: ProcessCluster;
let monitor: MonitorService;

beforeAll(async () => {
  cluster = await startProcessCluster({
    namespace: uniqueNamespace("procs"),
    marketData: { symbols: 3, ticksPerSecond: 5 },
    latencyMs: 20,
  });
  const redisUrls = Object.fromEntries(
    Object.values(cluster.regions).map((r) => [r.region, r.redisServer.url]),
  );
  monitor = await startMonitorService({
    config: configFromEnv(),
    layout: resolveLayout({ regions: cluster.layout.regions, namespace: cluster.namespace!, redisUrls }),
    port: 0,
    host: "127.0.0.1",
    intervalMs: 250,
  });
}, 240_000);

afterAll(async () => {
  await monitor?.stop();
  await cluster?.stop();
}, 60_000);

/** Metric names in an exposition text (`# TYPE` lines; a histogram also exposes _bucket, _count, _sum). */
function exposedNames(text: string): Set<string> {
  const names = new Set<string>();
  for (const [, name, type] of text.matchAll(/^# TYPE (\S+) (\S+)$/gm)) {
    names.add(name!);
    if (type === "histogram") for (const s of ["_bucket", "_count", "_sum"]) names.add(`${name}${s}`);
  }
  return names;
}

/** Every meridian_* name the dashboards' PromQL and the alert rules use. */
function queriedNames(): Map<string, string> {
  const where = new Map<string, string>();
  const scan = (file: string, text: string) => {
    for (const [name] of text.matchAll(/\bmeridian_[a-z0-9_]+/g)) where.set(name, file);
  };
  const dashboards = join(ROOT, "infra/grafana/dashboards");
  for (const f of readdirSync(dashboards)) {
    const d = JSON.parse(readFileSync(join(dashboards, f), "utf8")) as {
      panels: { targets: { expr: string }[] }[];
    };
    for (const p of d.panels) for (const t of p.targets) scan(f, t.expr);
  }
  const rules = readFileSync(join(ROOT, "infra/prometheus/meridian-alerts.yml"), "utf8");
  for (const [, expr] of rules.matchAll(/expr: \|?\s*([^\n]+)/g)) scan("meridian-alerts.yml", expr!);
  return where;
}

const health = async (url: string) =>
  (await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(10_000) })).status;

describe("the processes topology", () => {
  it("runs every region node and consumer as its own process, each region on its own redis-server", () => {
    const regions = Object.values(cluster.regions);
    expect(regions).toHaveLength(5);
    const pids = regions.flatMap((r) => [r.node.pid, r.consumer!.pid, r.redisServer.pid]);
    pids.push(cluster.replicator.pid, cluster.marketData!.pid, process.pid);
    expect(new Set(pids).size).toBe(pids.length);
    expect(new Set(regions.map((r) => r.redisServer.port)).size).toBe(5);
  });

  it("converges writes from every region in every region's own Redis", async () => {
    const keys = ["pos:P1", "pos:P2", "watch:P"];
    for (let round = 0; round < 4; round++) {
      await Promise.all(
        cluster.layout.regions.map(async (region, i) => {
          const url = cluster.regions[region]!.url;
          expect(
            (await put(url, "important", keys[(round + i) % 2]!, { op: "increment", by: 1 })).status,
          ).toBe(200);
          expect(
            (await put(url, "important", "watch:P", { op: "add", element: `${region}-${round}` })).status,
          ).toBe(200);
        }),
      );
    }
    await cluster.waitForConvergence(keys, 20_000);
    for (const region of cluster.layout.regions) {
      const sum = (await get(cluster.regions[region]!.url, "important", "pos:P1")).body.value;
      const sum2 = (await get(cluster.regions[region]!.url, "important", "pos:P2")).body.value;
      expect(sum + sum2).toBe(20);
    }
  });

  it("a critical write invalidates every other region's copy on its own server", async () => {
    const [a, b] = ["us-east", "ap-northeast"].map((r) => cluster.regions[r]!.url) as [string, string];
    expect((await put(a, "critical", "acct:P", { value: { balance: 1 } })).status).toBe(200);
    expect((await get(b, "critical", "acct:P")).body.value).toEqual({ balance: 1 }); // cached in b's Redis now
    expect((await put(a, "critical", "acct:P", { value: { balance: 2 } })).status).toBe(200);
    expect((await get(b, "critical", "acct:P")).body.value).toEqual({ balance: 2 });
  });

  it("is watched by the monitor service, which sees the regions agree", async () => {
    const deadline = Date.now() + 20_000;
    while (
      monitor.monitor.snapshot().divergentKeys !== 0 ||
      (await health(monitor.url.replace(/\/$/, ""))) !== 200
    ) {
      expect(Date.now()).toBeLessThan(deadline);
      await new Promise((r) => setTimeout(r, 250));
    }
    const checks = await (await fetch(`${monitor.url}metrics`)).text();
    expect(checks).toMatch(/^meridian_consistency_checks_total\{kind="divergence"\} [1-9]/m);
  });

  it("serves every metric the Grafana dashboards and the alert rules query, on live /metrics", async () => {
    const urls = [
      monitor.url.replace(/\/$/, ""),
      cluster.replicator.url,
      cluster.marketData!.url,
      ...Object.values(cluster.regions).flatMap((r) => [r.url, r.consumer!.url]),
    ];
    const texts = await Promise.all(urls.map(async (u) => (await fetch(`${u}/metrics`)).text()));
    const live = new Set(texts.flatMap((t) => [...exposedNames(t)]));
    const queried = queriedNames();
    expect(queried.size).toBeGreaterThan(15);
    const missing = [...queried]
      .filter(([name]) => !live.has(name))
      .map(([name, file]) => `${name} (${file})`);
    expect(missing).toEqual([]);
  });

  it("killing one region's Redis fails that region alone", async () => {
    const victim = cluster.regions["eu-west"]!;
    victim.redisServer.kill("SIGKILL");
    await new Promise((r) => setTimeout(r, 500));
    expect(await health(victim.url)).toBe(503);
    for (const region of cluster.layout.regions.filter((r) => r !== "eu-west")) {
      const url = cluster.regions[region]!.url;
      expect(await health(url)).toBe(200);
      expect((await put(url, "important", "pos:AFTER", { op: "increment", by: 1 })).status).toBe(200);
    }
  });
});
