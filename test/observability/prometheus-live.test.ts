// The real Prometheus against the running five-region pipeline: it scrapes the region nodes, the
// replicator and the consistency monitor, loads the shipped alert rules (the stalled-region rule with a
// short `for:` in this test's copy), and through its HTTP API we see the meridian_* series, then
// MeridianRegionStalled firing for the one region whose consumer is stopped, and resolving after restart.
import { randomUUID } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Cluster, startCluster } from "@meridian/cluster";
import { symbolNames } from "@meridian/market-data-producer";
import type { Admin } from "kafkajs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createKafka } from "../../packages/bus/src/index.js";
import { configFromEnv } from "../../packages/core/src/index.js";
import { ConsistencyMonitor } from "../../packages/monitor/src/index.js";
import {
  clusterDigestSource,
  consumersStalledIn,
  followAppliedEvents,
  KeyRegistry,
  kafkaConsumerLag,
} from "../../services/cli/src/wiring/cluster-probes.js";
import { type Dashboard, startDashboard } from "../../services/dashboard/src/index.js";
import { put, ROOT } from "../support/pipeline.js";
import { eventually, type RunningPrometheus, startPrometheus } from "./support/prometheus.js";

const STALLED = "ap-south";
const dir = mkdtempSync(join(tmpdir(), "meridian-prom-rules-"));
let cluster: Cluster;
let admin: Admin;
let monitor: ConsistencyMonitor;
let dashboard: Dashboard;
let prom: RunningPrometheus;
let unfollow: () => void;
const keys = new KeyRegistry();

/** The shipped rules with MeridianRegionStalled's `for:` cut to 1 s, so the test needs no 10 s hold. */
function rulesWithShortStall(): string {
  const shipped = readFileSync(join(ROOT, "infra/prometheus/meridian-alerts.yml"), "utf8");
  const short = shipped.replace(/(- alert: MeridianRegionStalled[\s\S]*?for: )\S+/, "$11s");
  expect(short).not.toBe(shipped);
  const file = join(dir, "meridian-alerts.yml");
  writeFileSync(file, short);
  return file;
}

const hostPort = (url: string) => new URL(url).host;

async function writeRound(n: number): Promise<void> {
  await Promise.all(
    cluster.layout.regions.map(async (region, i) => {
      const key = `pos:PROM${(n + i) % 5}`;
      keys.add(key);
      expect(
        (await put(cluster.regions[region]!.url, "important", key, { op: "increment", by: 1 })).status,
      ).toBe(200);
    }),
  );
}

/** Writes in every region until `cond` holds (bounded by timeoutMs). */
async function writeUntil(what: string, cond: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  let n = 0;
  await eventually(
    what,
    async () => {
      await writeRound(n++);
      return cond();
    },
    timeoutMs,
    async () => JSON.stringify({ alerts: await prom.alerts(), lag: monitor.snapshot().regionLagMs }),
  );
}

const stalledAlerts = async () =>
  (await prom.alerts()).filter((a) => a.labels.alertname === "MeridianRegionStalled");

beforeAll(async () => {
  const config = configFromEnv();
  cluster = await startCluster({
    namespace: `prom-${randomUUID().slice(0, 8)}`,
    config,
    marketData: { symbols: 3, ticksPerSecond: 5 },
    antiEntropy: false, // it would repair the stalled region behind the consumer's back
    critical: false,
  });
  admin = createKafka(config, `prom-test-${cluster.namespace}`).admin();
  await admin.connect();
  for (const s of symbolNames(3)) keys.add(`md:${s}`);
  monitor = new ConsistencyMonitor(
    {
      regions: cluster.layout.regions,
      eventual: clusterDigestSource(cluster, keys),
      consumerLag: kafkaConsumerLag(admin, cluster, consumersStalledIn(cluster)),
    },
    { intervalMs: 250 },
  );
  unfollow = followAppliedEvents(cluster, monitor, keys);
  monitor.monitorConsistencyMetrics();
  dashboard = await startDashboard({ feed: monitor, registry: monitor.metrics.registry, port: 0 });
  prom = await startPrometheus(
    [
      { job: "monitor", targets: [hostPort(dashboard.url)] },
      { job: "region-node", targets: cluster.layout.regions.map((r) => hostPort(cluster.regions[r]!.url)) },
      ...(cluster.replicator.url ? [{ job: "replicator", targets: [hostPort(cluster.replicator.url)] }] : []),
    ],
    [rulesWithShortStall()],
  );
});

afterAll(async () => {
  await prom?.stop();
  await dashboard?.close();
  await monitor?.close();
  unfollow?.();
  await admin?.disconnect();
  await cluster?.stop();
  await cluster?.purge();
  rmSync(dir, { recursive: true, force: true });
});

describe("a real Prometheus over the running pipeline", () => {
  it("scrapes every service and stores their meridian_* series", async () => {
    await eventually(
      "all targets up",
      async () => {
        const up = await prom.query("up");
        return up.length >= 6 && up.every((s) => s.value[1] === "1");
      },
      20_000,
      async () => JSON.stringify(await prom.query("up")),
    );
    // A node's request counter is stored one scrape after its first write: keep writing until it is.
    const wanted = ["meridian_region_convergence_lag_seconds", "meridian_http_requests_total"];
    const scraped = async () => {
      const names = await prom.metricNames();
      return wanted.every((n) => names.includes(n));
    };
    await writeUntil(
      "the monitor's checks and the nodes' request counters scraped",
      async () =>
        (await prom.query("sum(meridian_consistency_checks_total) > 0")).length > 0 && (await scraped()),
      30_000,
    );
    const names = await prom.metricNames();
    for (const n of wanted) expect(names).toContain(n);
    // Region nodes' own series, labelled by the job that scraped them.
    const nodeSeries = await prom.query('count by (job) ({job="region-node", __name__=~"meridian_.+"})');
    expect(Number(nodeSeries[0]?.value[1] ?? 0)).toBeGreaterThan(0);
    expect(await stalledAlerts()).toEqual([]);
  });

  it("fires MeridianRegionStalled for the region whose consumer stopped, and resolves it after restart", async () => {
    await cluster.stopConsumer(STALLED);
    await writeUntil(
      "stalled alert firing",
      async () => (await stalledAlerts()).some((a) => a.state === "firing"),
      40_000,
    );
    const firing = (await stalledAlerts()).filter((a) => a.state === "firing");
    expect(firing.map((a) => a.labels.region)).toEqual([STALLED]);
    const lag = await prom.query(`meridian_region_convergence_lag_seconds{region="${STALLED}"}`);
    expect(Number(lag[0]!.value[1])).toBeGreaterThan(5);

    await cluster.startConsumer(STALLED);
    await eventually(
      "stalled alert resolved",
      async () => (await stalledAlerts()).length === 0,
      40_000,
      async () => JSON.stringify({ alerts: await stalledAlerts(), lag: monitor.snapshot().regionLagMs }),
    );
  });
});
