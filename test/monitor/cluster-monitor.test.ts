// The monitor over the real five-region pipeline (startCluster: region nodes, replicator, invalidation
// consumers, market data — real Kafka and Redis). Nothing injected: zero violations, no alert, regions
// converge. One region's consumer stopped: the monitor sees that region fall behind, raises the
// stalled-region alert for it (and only it), records the violations, and resolves once it catches up.
import { randomUUID } from "node:crypto";
import { type Cluster, startCluster } from "@meridian/cluster";
import { symbolNames } from "@meridian/market-data-producer";
import type { Admin } from "kafkajs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createKafka } from "../../packages/bus/src/index.js";
import { configFromEnv } from "../../packages/core/src/index.js";
import { ConsistencyMonitor, MemoryAlertSink, renderReportHtml } from "../../packages/monitor/src/index.js";
import {
  clusterDigestSource,
  consumersStalledIn,
  followAppliedEvents,
  KeyRegistry,
  kafkaConsumerLag,
} from "../../services/cli/src/wiring/cluster-probes.js";

const run = randomUUID().slice(0, 8);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
let cluster: Cluster;
let admin: Admin;
let monitor: ConsistencyMonitor;
let sink: MemoryAlertSink;
let keys: KeyRegistry;
let unfollow: () => void;

async function increment(region: string, key: string): Promise<void> {
  keys.add(key);
  const res = await fetch(`${cluster.regions[region]!.url}/v1/important/${encodeURIComponent(key)}`, {
    method: "PUT",
    headers: { "content-type": "application/json", ...cluster.authHeaders },
    body: JSON.stringify({ op: "increment", by: 1 }),
  });
  expect(res.status).toBe(200);
}

/** Writes counters from `writers` for `ms`, about 25 writes per second. */
async function writeFor(ms: number, writers: readonly string[]): Promise<number> {
  const until = Date.now() + ms;
  let n = 0;
  while (Date.now() < until) {
    await increment(writers[n % writers.length]!, `pos:ACCT${n % 6}`);
    n++;
    await sleep(40);
  }
  return n;
}

async function until(what: string, cond: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) {
      const s = monitor.snapshot();
      throw new Error(
        `${what}: not reached in ${timeoutMs} ms (lag ${JSON.stringify(s.regionLagMs)}, open ${JSON.stringify(monitor.divergence.openEpisodes(Date.now()).slice(0, 5))}, alerts ${JSON.stringify(sink.events.map((e) => [e.rule, e.labels, e.status]))})`,
      );
    }
    await sleep(100);
  }
}

beforeAll(async () => {
  const config = configFromEnv();
  cluster = await startCluster({
    namespace: `mon-${run}`,
    config,
    marketData: { symbols: 4, ticksPerSecond: 8 },
    // The stalled-region case stops one consumer; the cluster's anti-entropy (on by default since it was
    // added) would copy the missed data over from the other regions within ~2 s, so nothing would stall.
    antiEntropy: false,
  });
  admin = createKafka(config, `monitor-test-${run}`).admin();
  await admin.connect();
  keys = new KeyRegistry();
  for (const s of symbolNames(4)) keys.add(`md:${s}`);
  monitor = new ConsistencyMonitor(
    {
      regions: cluster.layout.regions,
      eventual: clusterDigestSource(cluster, keys),
      consumerLag: kafkaConsumerLag(admin, cluster, consumersStalledIn(cluster)),
    },
    { intervalMs: 250, rules: { regionLagForMs: 1000 } },
  );
  sink = new MemoryAlertSink();
  monitor.alerts.addSink(sink);
  unfollow = followAppliedEvents(cluster, monitor, keys);
  monitor.monitorConsistencyMetrics();
});

afterAll(async () => {
  await monitor?.close();
  unfollow?.();
  await admin?.disconnect();
  await cluster?.stop();
  await (cluster as { purge?: () => Promise<void> } | undefined)?.purge?.();
});

describe("monitor over the five-region pipeline", () => {
  it("nothing injected: regions converge, zero violations, no alert", async () => {
    const writes = await writeFor(6000, cluster.layout.regions);
    expect(writes).toBeGreaterThan(10);
    await cluster.waitForConvergence(
      keys.list().filter((k) => k.startsWith("pos:")),
      10_000,
    );
    await sleep(1000);
    const s = monitor.snapshot();
    expect(s.violations.total).toBe(0);
    expect(s.violations.operations).toBeGreaterThan(100);
    expect(sink.events).toEqual([]);
    // Propagation and catch-up times were measured for every region.
    for (const r of cluster.layout.regions) expect(s.regionConvergence[r]!.count).toBeGreaterThan(0);
    expect(monitor.generateConsistencyReport().verdict).toBe("pass");
  });

  it("a stalled region is detected, alerted, reported, and recovers", async () => {
    const stalled = "ap-south";
    await cluster.stopConsumer(stalled);
    // Keep writing everywhere (the stalled region's own writes still leave it; others' never arrive).
    const writing = writeFor(9000, cluster.layout.regions);
    await until(
      "stalled alert",
      () => monitor.firingAlerts().some((a) => a.rule === "MeridianRegionStalled"),
      20_000,
    );
    await writing;
    const firing = monitor.firingAlerts().filter((a) => a.rule === "MeridianRegionStalled");
    expect(firing.map((a) => a.labels.region)).toEqual([stalled]);
    expect(monitor.snapshot().regionLagMs[stalled]).toBeGreaterThan(5000);
    const behind = monitor.violations.list().filter((v) => v.kind === "convergence_window_exceeded");
    expect(behind.length).toBeGreaterThan(0);
    expect(new Set(behind.map((v) => v.region))).toEqual(new Set([stalled]));
    expect(monitor.snapshot().consumerLag[stalled]).toBeGreaterThan(0);

    await cluster.startConsumer(stalled);
    await until("caught up", () => monitor.snapshot().regionLagMs[stalled] === 0, 30_000);
    await until(
      "resolved",
      () => sink.events.some((e) => e.rule === "MeridianRegionStalled" && e.status === "resolved"),
      10_000,
    );
    const report = monitor.generateConsistencyReport();
    expect(report.verdict).toBe("fail");
    const html = renderReportHtml(report);
    expect(html).toContain("MeridianRegionStalled");
    expect(html).toContain(stalled);
    expect(html).toContain("convergence_window_exceeded");
  });
});
