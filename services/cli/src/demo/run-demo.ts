// The main job: five regions + replicator + consumers + market data (10 k symbols), the consistency
// monitor over them, the live dashboard, thousands of client operations per second (open loop);
// progress with convergence per region pair under the load every few seconds; at the end an HTML + JSON
// report, then everything stopped. Each step lives in its own file of this directory.
import type { Cluster } from "@meridian/cluster";
import { configFromEnv, type MeridianConfig } from "@meridian/core";
import type { Dashboard } from "@meridian/dashboard";
import type { ConsistencyReport, LatencyMapRow } from "@meridian/monitor";
import pino, { type Logger } from "pino";
import type { LoadRunResult } from "../load/load-run.js";
import { PairConvergence } from "../load/pair-convergence.js";
import { Cleanups } from "./cleanups.js";
import { startDemoCluster } from "./demo-cluster.js";
import { startDemoDashboard } from "./demo-dashboard.js";
import { type DemoLoad, demoRampMs, loadFigures, startDemoLoad } from "./demo-load.js";
import { type DemoMonitor, startDemoMonitor } from "./demo-monitor.js";
import { criticalLatencyMap, raceTest, warmCriticalPaths } from "./finale.js";
import { DEMO_DEFAULTS, type DemoCluster, type DemoOptions, type DemoResult, type Print } from "./options.js";
import { printProgress } from "./progress.js";
import { StallInjector } from "./stall.js";
import { printSummary, writeDemoFiles } from "./summary.js";

export type { DemoOptions, DemoResult } from "./options.js";

export async function runDemo(o: DemoOptions): Promise<DemoResult> {
  const print = o.print ?? ((line: string) => process.stdout.write(`${line}\n`));
  const run: DemoRun = {
    o,
    print,
    // The console is for progress lines; services log errors only unless MERIDIAN_LOG_LEVEL says otherwise.
    logger: pino({ level: process.env.MERIDIAN_LOG_LEVEL ?? "error", base: { service: "demo" } }),
    config: configFromEnv(),
    namespace: `demo-${Date.now().toString(36)}`,
    symbols: o.symbols ?? DEMO_DEFAULTS.symbols,
    ticksPerSecond: o.ticksPerSecond ?? DEMO_DEFAULTS.ticksPerSecond,
    opsPerSecond: o.opsPerSecond ?? DEMO_DEFAULTS.opsPerSecond,
    cleanups: new Cleanups(print),
  };
  const { cleanups } = run;
  try {
    const { cluster, inProcess } = await bringUpCluster(run);
    const m = await startDemoMonitor({
      cluster,
      inProcess,
      config: run.config,
      namespace: run.namespace,
      symbols: run.symbols,
      logger: run.logger,
      webhookUrl: o.webhookUrl,
      cleanups,
      print,
    });
    const { pairs, dashboard, load } = await startDashboardAndLoad(run, cluster, inProcess, m);
    const { stall, started } = await driveLoad(run, cluster, m, load, pairs);

    print("[demo] stopping load; letting the regions settle ...");
    const loadResult = await load.stop();
    pairs?.stop();
    await stall.heal();
    const { report, paths } = await finish(run, { cluster, inProcess, m, pairs, started, loadResult });
    const checks = report.violations.checks ?? {};
    const dashboardUrl = dashboard.url;
    await cleanups.run();
    print("[demo] everything stopped.");
    return { report, checks, ...paths, dashboardUrl };
  } catch (err) {
    await cleanups.run();
    throw err;
  } finally {
    cleanups.detachSignals();
  }
}

/** What every step of one demo run shares. */
interface DemoRun {
  o: DemoOptions;
  print: Print;
  logger: Logger;
  config: MeridianConfig;
  namespace: string;
  symbols: number;
  ticksPerSecond: number;
  opsPerSecond: number;
  cleanups: Cleanups;
}

/** The cluster in the chosen topology, stopped (and purged) by the cleanups; prints its URLs. */
async function bringUpCluster(run: DemoRun): Promise<{ cluster: DemoCluster; inProcess?: Cluster }> {
  const { o, print } = run;
  print(
    `[demo] starting five regions, replicator, consumers, market data (${run.symbols} symbols, ${run.ticksPerSecond} ticks/s; namespace ${run.namespace}, topology ${o.topology ?? "in-process"}) ...`,
  );
  const t0 = Date.now();
  const wan = o.wan ?? process.env.MERIDIAN_DEMO_WAN !== "0";
  const { cluster, inProcess } = await startDemoCluster(o, {
    namespace: run.namespace,
    config: run.config,
    logger: run.logger,
    marketData: { symbols: run.symbols, ticksPerSecond: run.ticksPerSecond },
    // Every cross-region hop pays the WAN (MERIDIAN_DEMO_WAN=0: loopback, as before the WAN layer).
    wan,
    // Anti-entropy reads every region's Redis directly and would refill a stalled region within ~2 s,
    // hiding the injected fault the demo exists to show; it stays on for normal runs.
    ...(o.inject === "stall" ? { antiEntropy: false as const } : {}),
  });
  run.cleanups.push(async () => {
    await cluster.stop();
    // Delete this run's Redis keys, topics and PostgreSQL schema (the in-process launcher offers it).
    await inProcess?.purge();
  });
  const regions = cluster.layout.regions;
  print(`[demo] cluster up in ${Date.now() - t0} ms: ${regions.join(", ")}`);
  for (const r of regions) print(`         ${r.padEnd(13)} ${cluster.regions[r]!.url}`);
  return inProcess ? { cluster, inProcess } : { cluster };
}

/** Pair convergence (in-process only), the dashboard, then the open-loop load; each stopped by the cleanups. */
async function startDashboardAndLoad(
  run: DemoRun,
  cluster: DemoCluster,
  inProcess: Cluster | undefined,
  m: DemoMonitor,
): Promise<{ pairs: PairConvergence | undefined; dashboard: Dashboard; load: DemoLoad }> {
  const { o, print, cleanups } = run;
  const regions = cluster.layout.regions;
  // Convergence per region pair, from the consumers' applied events (in-process only) during the load.
  const pairs = inProcess ? new PairConvergence(inProcess.events, regions).start() : undefined;
  if (pairs) cleanups.push(() => pairs.stop());
  let load: DemoLoad | undefined;
  const dashboard = await startDemoDashboard(
    {
      feed: m.monitor,
      registry: m.registry,
      port: o.port,
      host: o.host,
      load: () => loadFigures(regions, pairs, load),
    },
    print,
  );
  cleanups.push(() => dashboard.close());
  print(`[demo] dashboard: ${dashboard.url}   (metrics: ${dashboard.url}metrics)`);
  if (inProcess?.wan && m.critical) await warmCriticalPaths(inProcess, run.namespace, print);
  load = startDemoLoad({
    nodes: m.nodes,
    ...(inProcess ? { direct: Object.fromEntries(regions.map((r) => [r, inProcess.nodes[r]!.node])) } : {}),
    headers: cluster.authHeaders,
    monitor: m.monitor,
    keys: m.keys,
    strongKeys: m.strongKeys,
    critical: m.critical,
    ledger: m.critical && !inProcess?.wan,
    opsPerSecond: run.opsPerSecond,
    durationMs: o.seconds * 1000,
    tag: run.namespace,
  });
  const running = load;
  cleanups.push(async () => void (await running.stop()));
  print(
    `[demo] offering ${run.opsPerSecond} client ops/s (open loop, reached after a ${Math.round(demoRampMs(o.seconds * 1000) / 1000)} s ramp) for ${o.seconds} s (MERIDIAN_DEMO_SECONDS); live figures every 5 s:`,
  );
  return { pairs, dashboard, load: running };
}

/** Lets the load run its seconds, injecting the stall when asked and printing progress every 5 s. */
async function driveLoad(
  run: DemoRun,
  cluster: DemoCluster,
  m: DemoMonitor,
  load: DemoLoad,
  pairs: PairConvergence | undefined,
): Promise<{ stall: StallInjector; started: number }> {
  const { o, print } = run;
  const regions = cluster.layout.regions;
  const stall = new StallInjector(
    cluster,
    o.stallRegion ?? regions[regions.length - 2]!,
    o.seconds,
    o.inject === "stall",
    print,
    run.logger,
  );
  const started = Date.now();
  let nextPrint = 5;
  while (Date.now() - started < o.seconds * 1000) {
    await sleep(250);
    const elapsed = (Date.now() - started) / 1000;
    await stall.maybeStall(elapsed);
    if (elapsed >= nextPrint) {
      nextPrint += 5;
      printProgress(print, elapsed, m.monitor, cluster, load, pairs);
    }
  }
  return { stall, started };
}

/** After the load: race test, latency map, a last tick once settled, then the report files and summary. */
async function finish(
  run: DemoRun,
  a: {
    cluster: DemoCluster;
    inProcess: Cluster | undefined;
    m: DemoMonitor;
    pairs: PairConvergence | undefined;
    started: number;
    loadResult: LoadRunResult;
  },
): Promise<{ report: ConsistencyReport; paths: { jsonPath: string; htmlPath: string } }> {
  const { o, print, namespace } = run;
  const { m, pairs, inProcess } = a;
  const raceHistory = m.critical ? await raceTest(m.monitor, namespace, print) : undefined;
  // The latency map needs the WAN layer, which only the in-process launcher runs.
  const latencyMap: LatencyMapRow[] | undefined = inProcess?.wan
    ? await criticalLatencyMap(inProcess, namespace, print)
    : undefined;
  await sleep(3000);
  await m.monitor.tick();
  printProgress(print, (Date.now() - a.started) / 1000, m.monitor, a.cluster);

  const regions = a.cluster.layout.regions;
  const report = m.monitor.generateConsistencyReport(
    `Meridian demo — ${regions.length} regions, ${o.seconds} s`,
  );
  if (latencyMap) report.latencyMap = latencyMap;
  // Kept beside the monitor's figures in the JSON report: write → merged per region pair during the load.
  if (pairs)
    Object.assign(report, { convergenceUnderLoad: { overall: pairs.overall(), pairs: pairs.rows() } });
  const paths = await writeDemoFiles(report, o.reportsDir, raceHistory, print);
  printSummary({
    print,
    report,
    monitor: m.monitor,
    load: a.loadResult,
    opsPerSecond: run.opsPerSecond,
    pairs,
    paths,
  });
  return { report, paths };
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
