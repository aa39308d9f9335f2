// The demo's live lines every few seconds: the monitor's view (ops, violations, divergent keys, alerts),
// the load generator's last second, convergence per region, and — with the in-process cluster — the
// convergence per region pair over the last window, measured while the load runs.
import type { ConsistencyMonitor } from "@meridian/monitor";
import type { PairConvergence } from "../load/pair-convergence.js";
import { pairMatrix, progressLine } from "../load/report-lines.js";
import type { DemoLoad } from "./demo-load.js";
import type { DemoCluster, Print } from "./options.js";

export function printProgress(
  print: Print,
  elapsed: number,
  monitor: ConsistencyMonitor,
  cluster: DemoCluster,
  load?: DemoLoad,
  pairs?: PairConvergence,
): void {
  const s = monitor.snapshot();
  const prop = cluster.convergence?.() ?? {};
  const total = Object.values(s.opsPerSec).reduce((a, b) => a + b, 0);
  print(
    `  t=${elapsed.toFixed(0).padStart(3)}s  ops/s ${total.toFixed(0).padStart(4)}  violations ${s.violations.total}  divergent keys ${s.divergentKeys}  alerts ${s.alertsFiring.map((a) => `${a.rule}${a.labels.region ? `(${a.labels.region})` : ""}`).join(",") || "none"}`,
  );
  const last = load?.latest();
  if (last) print(`      ${progressLine(last)}`);
  for (const r of s.regions) {
    const p = prop[r];
    const c = s.regionConvergence[r];
    print(
      `      ${r.padEnd(13)} propagation p50 ${fmt(p?.p50Ms)} p99 ${fmt(p?.p99Ms)} | agreement p99 ${fmt(c?.p99)} | lag now ${fmt(s.regionLagMs[r])} | consumer lag ${s.consumerLag[r] ?? "?"} msgs`,
    );
  }
  if (pairs) {
    print("      convergence under load, last window, p50/p99 ms (row: written in, column: merged into):");
    for (const line of pairMatrix(pairs.takeWindow(), pairs.regions)) print(`        ${line}`);
  }
}

function fmt(ms: number | undefined): string {
  return ms === undefined ? "    - " : `${Math.round(ms)} ms`.padStart(8);
}
