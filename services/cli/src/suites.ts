// `meridian suites`: the race and stress suites against a freshly started cluster's `critical` data (the
// strong tier, through the region nodes' HTTP API), each history checked for linearizability and saved.
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { startCluster } from "@meridian/cluster";
import { configFromEnv } from "@meridian/core";
import { type Operation, runConsistencySuites, type SuiteReport } from "@meridian/monitor";
import pino from "pino";
import { httpCriticalTarget } from "./wiring/strong-http-probe.js";

export interface SuitesCommandOptions {
  clients: number;
  opsPerClient: number;
  stressSeconds: number;
  reportsDir: string;
  print: (line: string) => void;
}

export async function runSuitesCommand(o: SuitesCommandOptions): Promise<SuiteReport> {
  const logger = pino({ level: process.env.MERIDIAN_LOG_LEVEL ?? "error" });
  const namespace = `suites-${Date.now().toString(36)}`;
  o.print(`[suites] starting a five-region cluster (namespace ${namespace}) ...`);
  const cluster = await startCluster({ namespace, config: configFromEnv(), logger, marketData: false });
  try {
    if (!(cluster as { critical?: unknown }).critical)
      throw new Error("this cluster runs without critical data");
    const nodes = Object.fromEntries(cluster.layout.regions.map((r) => [r, cluster.regions[r]!.url]));
    const histories = new Map<string, readonly Operation[]>();
    o.print(
      `[suites] race: ${o.clients} clients x ${o.opsPerClient} ops on 2 hot keys; stress: ${o.clients * 2} clients for ${o.stressSeconds} s`,
    );
    const report = await runConsistencySuites(httpCriticalTarget(nodes, cluster.authHeaders), {
      clients: o.clients,
      opsPerClient: o.opsPerClient,
      stressClients: o.clients * 2,
      stressDurationMs: o.stressSeconds * 1000,
      keyPrefix: `${namespace}:`,
      onHistory: (name, h) => histories.set(name, h),
    });
    for (const s of report.suites) {
      const path = join(o.reportsDir, `${s.name}-history.json`);
      await writeFile(
        path,
        JSON.stringify(histories.get(s.name) ?? [], (_k, v) => (v === Number.POSITIVE_INFINITY ? null : v)),
      );
      const verdict = s.linearizable === null ? "undecided within the budget" : s.linearizable ? "yes" : "NO";
      o.print(
        `[suites] ${s.name.padEnd(6)} ${String(s.operations).padStart(5)} ops  ${String(s.errors).padStart(3)} errors  ${s.throughputOpsPerSec.toFixed(0).padStart(5)} ops/s  p50 ${s.latency.p50.toFixed(1)} ms  p99 ${s.latency.p99.toFixed(1)} ms  linearizable: ${verdict}  (history: ${path})`,
      );
    }
    for (const v of report.violations)
      o.print(`[suites] VIOLATION ${v.message}\n${String(v.details?.counterexample ?? "")}`);
    return report;
  } finally {
    await cluster.stop();
    // Delete this run's Redis keys, topics and PostgreSQL schema (when the cluster offers it).
    await (cluster as { purge?: () => Promise<void> }).purge?.().catch(() => undefined);
  }
}
