// `meridian load`: an open-loop load run against the region nodes of a cluster — one started here
// (in-process, with convergence per region pair from its consumers) or one running elsewhere (--nodes).
// Prints a progress line each second and a summary; exit code 1 when the counters or convergence fail.
import type { Cluster } from "@meridian/cluster";
import { configFromEnv } from "@meridian/core";
import { bearerHeaders } from "@meridian/service-kit";
import pino from "pino";
import { counterMismatches } from "./counter-check.js";
import type { LoadFlags } from "./flags.js";
import { type LoadRunResult, runLoad } from "./load-run.js";
import { PairConvergence } from "./pair-convergence.js";
import { convergenceLine, pairMatrix, progressLine, summaryLines } from "./report-lines.js";
import { startClusterRetrying } from "./start-cluster.js";
import { directTarget, httpTarget, type LoadTarget } from "./targets.js";
import { Workload } from "./workload.js";

type Print = (line: string) => void;

export async function runLoadCommand(flags: LoadFlags, print: Print): Promise<number> {
  if (flags.nodes) {
    const headers = bearerHeaders(configFromEnv().httpAuth?.token);
    const target = httpTarget({ nodes: flags.nodes, headers, timeoutMs: flags.timeoutMs });
    print(
      `[load] against ${Object.keys(flags.nodes).length} nodes (no convergence feed from a remote cluster)`,
    );
    const result = await run(flags, target, print);
    const bad = await counterMismatches(flags.nodes, headers, result.ledger);
    return reportCounters(bad, print) ? 0 : 1;
  }
  const namespace = `load-${Date.now().toString(36)}`;
  print(`[load] starting a five-region cluster in this process (namespace ${namespace}) ...`);
  const cluster = await startClusterRetrying({
    namespace,
    // The console is for the progress lines: services log errors only unless MERIDIAN_LOG_LEVEL says more.
    logger: pino({ level: process.env.MERIDIAN_LOG_LEVEL ?? "silent", base: { service: "load" } }),
    marketData:
      flags.ticksPerSecond > 0 ? { symbols: flags.symbols, ticksPerSecond: flags.ticksPerSecond } : false,
    ...(flags.mix.entries.some((e) => e.dataClass === "critical") ? {} : { critical: false as const }),
  });
  try {
    return await runInProcess(flags, cluster, print);
  } finally {
    await cluster.stop();
    await cluster.purge().catch(() => undefined);
  }
}

async function runInProcess(flags: LoadFlags, cluster: Cluster, print: Print): Promise<number> {
  const regions = cluster.layout.regions;
  const nodes = Object.fromEntries(regions.map((r) => [r, cluster.regions[r]!.url]));
  const target =
    flags.transport === "direct"
      ? directTarget(Object.fromEntries(regions.map((r) => [r, cluster.nodes[r]!.node])), flags.timeoutMs)
      : httpTarget({ nodes, headers: cluster.authHeaders, timeoutMs: flags.timeoutMs });
  const pairs = new PairConvergence(cluster.events, regions).start();
  const result = await run(flags, target, print, () => {
    const worst = Math.max(...pairs.takeWindow().map((r) => (r.count ? r.p99Ms : 0)));
    return ` | convergence p99 (worst pair) ${Math.round(worst)} ms`;
  });
  const counters = [...result.ledger.expectations()].filter(([, e]) => e.acknowledged > 0).map(([k]) => k);
  let settled = true;
  try {
    const ms = await cluster.waitForConvergence(counters, 10_000);
    print(`[load] all regions agree on the ${counters.length} counters ${ms} ms after the load stopped`);
  } catch (err) {
    settled = false;
    print(`[load] NOT converged 10 s after the load: ${(err as Error).message}`);
  }
  pairs.stop();
  print(convergenceLine("[load] convergence under load, all pairs (write → merged)", pairs.overall()));
  print("[load] per region pair, p50/p99 ms (row: written in, column: merged into):");
  for (const line of pairMatrix(pairs.rows(), regions)) print(`       ${line}`);
  const bad = await counterMismatches(nodes, cluster.authHeaders, result.ledger);
  return reportCounters(bad, print) && settled ? 0 : 1;
}

async function run(
  flags: LoadFlags,
  target: LoadTarget,
  print: Print,
  extra?: () => string,
): Promise<LoadRunResult> {
  const workload = new Workload({
    regions: target.regions,
    mix: flags.mix,
    tag: `l${Date.now().toString(36)}`,
    keys: flags.keys,
    counters: flags.counters,
    hotCounters: flags.hot,
  });
  print(
    `[load] ${flags.rate} ops/s for ${flags.durationMs / 1000} s, open loop (latency from the intended send time)`,
  );
  const result = await runLoad({
    target,
    workload,
    ratePerSecond: flags.rate,
    durationMs: flags.durationMs,
    maxInFlight: flags.maxInFlight,
    rampMs: flags.rampMs,
    ...(flags.shedAfterMs !== undefined ? { shedAfterMs: flags.shedAfterMs } : {}),
    onSecond: (s) => print(progressLine(s) + (extra?.() ?? "")),
  });
  for (const line of summaryLines(result, flags.rate)) print(line);
  return result;
}

function reportCounters(bad: Record<string, string[]>, print: Print): boolean {
  const wrong = Object.entries(bad).filter(([, list]) => list.length > 0);
  if (wrong.length === 0) {
    print("[load] counters: every region equals the acknowledged increments");
    return true;
  }
  for (const [region, list] of wrong)
    print(`[load] counters WRONG in ${region}: ${list.slice(0, 3).join("; ")}`);
  return false;
}
