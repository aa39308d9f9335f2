// The main job: five regions + replicator + consumers + market data (startCluster), the consistency
// monitor over them, the live dashboard, client load; progress and per-region convergence printed every
// few seconds; at the end an HTML + JSON report, then everything stopped.
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { createKafka } from "@meridian/bus";
import {
  type Cluster,
  measureCriticalLatencyMap,
  type ProcessCluster,
  startCluster,
  startProcessCluster,
} from "@meridian/cluster";
import { configFromEnv } from "@meridian/core";
import { type Dashboard, startDashboard } from "@meridian/dashboard";
import type { ConvergenceSummary } from "@meridian/invalidation-consumer";
import { symbolNames } from "@meridian/market-data-producer";
import {
  type AlertSink,
  ConsistencyMonitor,
  type ConsistencyReport,
  type LatencyMapRow,
  latencyMapRow,
  writeReport,
} from "@meridian/monitor";
import pino from "pino";
import { Registry } from "prom-client";
import {
  clusterDigestSource,
  followAppliedEvents,
  KeyRegistry,
  kafkaConsumerLag,
  type ProbedCluster,
} from "../wiring/cluster-probes.js";
import { httpCriticalTarget, httpStrongProbe, type Queryable } from "../wiring/strong-http-probe.js";
import { startLoad } from "./load.js";

export interface DemoOptions {
  seconds: number;
  /** Dashboard port (0: any free port). */
  port: number;
  host: string;
  reportsDir: string;
  /** `processes`: every service its own OS process, one redis-server per region (default in-process). */
  topology?: "in-process" | "processes";
  /** Fault to inject mid-run, to show detection: stop one region's consumer for a while. */
  inject?: "none" | "stall";
  /** The WAN layer (default on): cross-region hops pay the latency matrix, critical data has home regions. */
  wan?: boolean;
  stallRegion?: string;
  symbols?: number;
  ticksPerSecond?: number;
  opsPerSecondPerRegion?: number;
  webhookUrl?: string;
  print?: (line: string) => void;
}

export interface DemoResult {
  report: ConsistencyReport;
  /** Checks the monitor made, by kind (strong_read, divergence = keys compared). */
  checks: Record<string, number>;
  jsonPath: string;
  htmlPath: string;
  dashboardUrl: string;
}

/** What the demo needs of a running cluster, in either topology. */
interface DemoCluster extends ProbedCluster {
  readonly regions: Record<string, ProbedCluster["regions"][string] & { readonly url: string }>;
  readonly critical?: { pool: Queryable } | undefined;
  /** Authorization header for the services' write routes. */
  readonly authHeaders: Record<string, string>;
  stopConsumer(region: string): Promise<void>;
  startConsumer(region: string): Promise<void>;
  stop(): Promise<void>;
  /** Per-region propagation from the consumers' applied events (in-process topology only). */
  convergence?(): Record<string, ConvergenceSummary>;
  /** Per-update propagation from the consumer processes' /metrics (processes topology). */
  followAppliedLag?: ProcessCluster["followAppliedLag"];
}

async function startDemoCluster(
  o: DemoOptions,
  opts: Parameters<typeof startCluster>[0] & object,
): Promise<{
  cluster: DemoCluster;
  inProcess?: Awaited<ReturnType<typeof startCluster>>;
}> {
  if (o.topology === "processes") {
    const { regions, namespace, config, marketData } = opts;
    return {
      cluster: await startProcessCluster({
        ...(regions ? { regions } : {}),
        ...(namespace ? { namespace } : {}),
        ...(config ? { config } : {}),
        ...(marketData !== undefined ? { marketData } : {}),
      }),
    };
  }
  const inProcess = await startCluster(opts);
  return { cluster: inProcess, inProcess };
}

export async function runDemo(o: DemoOptions): Promise<DemoResult> {
  const print = o.print ?? ((line: string) => process.stdout.write(`${line}\n`));
  // The console is for progress lines; services log errors only unless MERIDIAN_LOG_LEVEL says otherwise.
  const logger = pino({ level: process.env.MERIDIAN_LOG_LEVEL ?? "error", base: { service: "demo" } });
  const config = configFromEnv();
  const namespace = `demo-${Date.now().toString(36)}`;
  const symbols = o.symbols ?? 20;
  const cleanups: Array<() => Promise<void> | void> = [];
  const cleanup = async () => {
    for (const c of cleanups.reverse()) await Promise.resolve(c()).catch(() => undefined);
    cleanups.length = 0;
  };
  const onSignal = () => {
    print("\ninterrupted: stopping everything");
    void cleanup().then(() => process.exit(130));
  };
  process.once("SIGINT", onSignal);
  process.once("SIGTERM", onSignal);

  try {
    print(
      `[demo] starting five regions, replicator, consumers, market data (namespace ${namespace}, topology ${o.topology ?? "in-process"}) ...`,
    );
    const t0 = Date.now();
    const { cluster, inProcess } = await startDemoCluster(o, {
      namespace,
      config,
      logger,
      marketData: { symbols, ticksPerSecond: o.ticksPerSecond ?? 50 },
      // Every cross-region hop pays the WAN (MERIDIAN_DEMO_WAN=0: loopback, as before the WAN layer).
      wan: o.wan ?? process.env.MERIDIAN_DEMO_WAN !== "0",
      // Anti-entropy reads every region's Redis directly and would refill a stalled region within ~2 s,
      // hiding the injected fault the demo exists to show; it stays on for normal runs.
      ...(o.inject === "stall" ? { antiEntropy: false as const } : {}),
    });
    cleanups.push(async () => {
      await cluster.stop();
      // Delete this run's Redis keys, topics and PostgreSQL schema (the in-process launcher offers it).
      await inProcess?.purge();
    });
    const regions = cluster.layout.regions;
    print(`[demo] cluster up in ${Date.now() - t0} ms: ${regions.join(", ")}`);
    for (const r of regions) print(`         ${r.padEnd(13)} ${cluster.regions[r]!.url}`);

    const kafka = createKafka(config, `meridian-monitor-${namespace}`, logger);
    const admin = kafka.admin();
    await admin.connect();
    cleanups.push(() => admin.disconnect());

    const keys = new KeyRegistry();
    for (const s of symbolNames(symbols)) keys.add(`md:${s}`);
    const registry = new Registry();
    const nodes = Object.fromEntries(regions.map((r) => [r, cluster.regions[r]!.url]));
    // The strong tier is on when the cluster runs `critical` data (its PostgreSQL pool is exposed).
    const criticalPool = cluster.critical?.pool;
    const strongKeys = new KeyRegistry(200);
    const monitor = new ConsistencyMonitor(
      {
        regions,
        eventual: clusterDigestSource(cluster, keys),
        consumerLag: kafkaConsumerLag(admin, cluster),
        ...(criticalPool
          ? {
              strong: httpStrongProbe({
                nodes,
                pool: criticalPool,
                keys: () => strongKeys.list(),
                headers: cluster.authHeaders,
              }),
              kv: httpCriticalTarget(nodes, cluster.authHeaders),
            }
          : {}),
      },
      { registry, logger, intervalMs: 500, strong: { samplesPerTick: 5 } },
    );
    print(
      `[demo] monitor: eventual data by CRDT digests per region${criticalPool ? ", strong data by sampled reads vs PostgreSQL versions" : " (critical data disabled in this cluster)"}`,
    );
    const printAlerts: AlertSink = {
      send: (e) =>
        print(
          `[alert] ${e.status === "firing" ? "FIRING " : "resolved"} ${e.rule}${Object.keys(e.labels).length ? ` ${JSON.stringify(e.labels)}` : ""} value ${Math.round(e.value * 1000) / 1000} (threshold ${e.threshold})`,
        ),
    };
    monitor.setupConsistencyAlerts({
      sinks: [printAlerts],
      ...(o.webhookUrl ? { webhookUrl: o.webhookUrl } : {}),
    });
    // Propagation times per update: the consumers' applied events in process, their lag histograms from
    // /metrics with separate processes (without them the verdict rested on the monitor's digest ticks,
    // seconds apart on a loaded machine).
    if (inProcess) cleanups.push(followAppliedEvents(inProcess, monitor, keys));
    else if (cluster.followAppliedLag) {
      const stop = cluster.followAppliedLag((e) =>
        monitor.recordPropagation({ from: e.originRegion, to: e.region, lagMs: e.lagMs }, e.atMs),
      );
      cleanups.push(stop);
    }
    monitor.monitorConsistencyMetrics();
    cleanups.push(() => monitor.close());

    let dashboard: Dashboard;
    try {
      dashboard = await startDashboard({ feed: monitor, registry, port: o.port, host: o.host });
    } catch (err) {
      if ((err as { code?: string }).code !== "EADDRINUSE") throw err;
      print(`[demo] port ${o.port} is taken; the dashboard takes a free port instead`);
      dashboard = await startDashboard({ feed: monitor, registry, port: 0, host: o.host });
    }
    cleanups.push(() => dashboard.close());
    print(`[demo] dashboard: ${dashboard.url}   (metrics: ${dashboard.url}metrics)`);

    const load = startLoad({
      nodes,
      headers: cluster.authHeaders,
      monitor,
      critical: criticalPool !== undefined,
      onCriticalKey: (k) => strongKeys.add(k),
      symbols: symbolNames(symbols),
      opsPerSecondPerRegion: o.opsPerSecondPerRegion ?? 40,
      onKey: (k) => keys.add(k),
    });
    cleanups.push(() => load.stop());
    print(
      `[demo] running for ${o.seconds} s (MERIDIAN_DEMO_SECONDS); live convergence per region every 5 s:`,
    );

    const stallRegion = o.stallRegion ?? regions[regions.length - 2]!;
    // Stall for half the run: the stalled-region alert needs lag > 5 s held for 10 s, so runs of 40 s
    // and more show it fire, then resolve once the consumer is back.
    const stallAt = o.inject === "stall" ? o.seconds * 0.2 : Number.POSITIVE_INFINITY;
    const stallFor = o.seconds * 0.5;
    let stalled = false;
    const started = Date.now();
    let nextPrint = 5;
    while (Date.now() - started < o.seconds * 1000) {
      await sleep(250);
      const elapsed = (Date.now() - started) / 1000;
      if (!stalled && elapsed >= stallAt) {
        stalled = true;
        print(
          `[demo] INJECTING FAULT: stopping ${stallRegion}'s invalidation consumer for ${stallFor.toFixed(0)} s`,
        );
        await cluster.stopConsumer(stallRegion);
        setTimeout(() => {
          print(`[demo] restarting ${stallRegion}'s invalidation consumer`);
          void cluster.startConsumer(stallRegion).catch((err) => logger.error({ err }, "restart failed"));
        }, stallFor * 1000).unref();
      }
      if (elapsed >= nextPrint) {
        nextPrint += 5;
        printProgress(print, elapsed, monitor, cluster);
      }
    }

    print("[demo] stopping load; letting the regions settle ...");
    await load.stop();
    if (stalled) await cluster.startConsumer(stallRegion).catch(() => undefined);
    let raceHistory: readonly unknown[] | undefined;
    if (criticalPool) {
      print(
        "[demo] race test on critical data: 6 clients across the regions, history checked for linearizability ...",
      );
      const suite = await monitor.runConsistencyTests({
        suites: ["race"],
        clients: 6,
        hotKeys: 2,
        opsPerClient: 25,
        keyPrefix: `race-${namespace}:`,
        onHistory: (_name, history) => {
          raceHistory = history;
        },
      });
      const race = suite.suites[0]!;
      print(
        `[demo]   ${race.operations} operations, ${race.errors} errors, linearizable: ${race.linearizable === null ? "undecided in the time budget" : race.linearizable ? "yes" : "NO"}`,
      );
    }
    // The latency map needs the WAN layer, which only the in-process launcher runs.
    const latencyMap = inProcess?.wan ? await criticalLatencyMap(inProcess, namespace, print) : undefined;
    await sleep(3000);
    await monitor.tick();
    printProgress(print, (Date.now() - started) / 1000, monitor, cluster);

    const report = monitor.generateConsistencyReport(
      `Meridian demo — ${regions.length} regions, ${o.seconds} s`,
    );
    if (latencyMap) report.latencyMap = latencyMap;
    const { jsonPath, htmlPath } = await writeReport(report, o.reportsDir);
    if (raceHistory) {
      // JSON has no Infinity: an operation whose outcome is unknown gets ret null (meridian check reads it so).
      const historyPath = join(o.reportsDir, "race-history.json");
      await writeFile(
        historyPath,
        JSON.stringify(raceHistory, (_k, v) => (v === Number.POSITIVE_INFINITY ? null : v)),
      );
      print(`[demo] race history: ${historyPath} (check it again: pnpm meridian check ${historyPath})`);
    }
    const snap = monitor.snapshot();
    const checks = report.violations.checks ?? {};
    print("");
    print(
      `[demo] monitor checks: ${checks.strong_read ?? 0} sampled strong reads, ${checks.divergence ?? 0} key comparisons across the regions`,
    );
    print(
      `[demo] operations observed: ${report.violations.operations} (client ops: ${load.operations()}, errors: ${load.errors()})`,
    );
    print(
      `[demo] convergence (all regions): p50 ${Math.round(report.overallConvergence?.p50 ?? 0)} ms, p99 ${Math.round(report.overallConvergence?.p99 ?? 0)} ms, max ${Math.round(report.overallConvergence?.max ?? 0)} ms (target 5000 ms)`,
    );
    print(
      `[demo] violations: ${report.violations.total} (rate ${(report.violations.rate * 100).toPrecision(3)} %, target < ${(report.violations.target * 100).toPrecision(2)} %); alerts fired: ${report.alerts.filter((a) => a.status === "firing").length}; divergent keys now: ${snap.divergentKeys}`,
    );
    print(
      `[demo] verdict: ${report.verdict.toUpperCase()}${report.reasons.length ? ` — ${report.reasons.join("; ")}` : ""}`,
    );
    print(`[demo] report: ${htmlPath}`);
    print(`[demo]         ${jsonPath}`);
    const dashboardUrl = dashboard.url;
    await cleanup();
    print("[demo] everything stopped.");
    return { report, checks, jsonPath, htmlPath, dashboardUrl };
  } catch (err) {
    await cleanup();
    throw err;
  } finally {
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
  }
}

function printProgress(
  print: (l: string) => void,
  elapsed: number,
  monitor: ConsistencyMonitor,
  cluster: DemoCluster,
) {
  const s = monitor.snapshot();
  const prop = cluster.convergence?.() ?? {};
  const total = Object.values(s.opsPerSec).reduce((a, b) => a + b, 0);
  print(
    `  t=${elapsed.toFixed(0).padStart(3)}s  ops/s ${total.toFixed(0).padStart(4)}  violations ${s.violations.total}  divergent keys ${s.divergentKeys}  alerts ${s.alertsFiring.map((a) => `${a.rule}${a.labels.region ? `(${a.labels.region})` : ""}`).join(",") || "none"}`,
  );
  for (const r of s.regions) {
    const p = prop[r];
    const c = s.regionConvergence[r];
    print(
      `      ${r.padEnd(13)} propagation p50 ${fmt(p?.p50Ms)} p99 ${fmt(p?.p99Ms)} | agreement p99 ${fmt(c?.p99)} | lag now ${fmt(s.regionLagMs[r])} | consumer lag ${s.consumerLag[r] ?? "?"} msgs`,
    );
  }
}

function fmt(ms: number | undefined): string {
  return ms === undefined ? "    - " : `${Math.round(ms)} ms`.padStart(8);
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Critical GET/PUT per (client region, home region) through the nodes, printed and kept for the report. */
async function criticalLatencyMap(
  cluster: Cluster,
  namespace: string,
  print: (line: string) => void,
): Promise<LatencyMapRow[]> {
  print("[demo] latency map of critical data per (client region, home region), 5 GETs + 5 PUTs per pair ...");
  const rows = (await measureCriticalLatencyMap(cluster, { samples: 5, tag: `map-${namespace}` })).map(
    latencyMapRow,
  );
  for (const r of rows.filter((x) => x.op === "get")) {
    print(
      `         get ${r.client.padEnd(13)} → home ${r.home.padEnd(13)} p50 ${Math.round(r.p50)} ms (floor ${r.floorMs} ms)`,
    );
  }
  return rows;
}
