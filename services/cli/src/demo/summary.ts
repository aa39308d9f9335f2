// The demo's closing lines and files: the report (HTML + JSON), the race history, and what the run
// measured — operations, convergence overall and per region pair under the load, violations, verdict.
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { type ConsistencyMonitor, type ConsistencyReport, writeReport } from "@meridian/monitor";
import type { LoadRunResult } from "../load/load-run.js";
import type { PairConvergence } from "../load/pair-convergence.js";
import { convergenceLine, pairMatrix, summaryLines } from "../load/report-lines.js";
import type { Print } from "./options.js";

export async function writeDemoFiles(
  report: ConsistencyReport,
  reportsDir: string,
  raceHistory: readonly unknown[] | undefined,
  print: Print,
): Promise<{ jsonPath: string; htmlPath: string }> {
  const paths = await writeReport(report, reportsDir);
  if (raceHistory) {
    // JSON has no Infinity: an operation whose outcome is unknown gets ret null (meridian check reads it so).
    const historyPath = join(reportsDir, "race-history.json");
    await writeFile(
      historyPath,
      JSON.stringify(raceHistory, (_k, v) => (v === Number.POSITIVE_INFINITY ? null : v)),
    );
    print(`[demo] race history: ${historyPath} (check it again: pnpm meridian check ${historyPath})`);
  }
  return paths;
}

export function printSummary(a: {
  print: Print;
  report: ConsistencyReport;
  monitor: ConsistencyMonitor;
  load: LoadRunResult;
  opsPerSecond: number;
  pairs: PairConvergence | undefined;
  paths: { jsonPath: string; htmlPath: string };
}): void {
  const { print, report } = a;
  const checks = report.violations.checks ?? {};
  const c = report.overallConvergence;
  print("");
  print(
    `[demo] monitor checks: ${checks.strong_read ?? 0} sampled strong reads, ${checks.divergence ?? 0} key comparisons across the regions`,
  );
  for (const line of summaryLines(a.load, a.opsPerSecond)) print(line.replace("[load]", "[demo] load:"));
  print(
    `[demo] convergence (all regions, monitor): p50 ${Math.round(c?.p50 ?? 0)} ms, p99 ${Math.round(c?.p99 ?? 0)} ms, max ${Math.round(c?.max ?? 0)} ms (target 5000 ms)`,
  );
  if (a.pairs) {
    print(convergenceLine("[demo] convergence UNDER LOAD, write → merged, all pairs", a.pairs.overall()));
    print("[demo] per region pair during the load, p50/p99 ms (row: written in, column: merged into):");
    for (const line of pairMatrix(a.pairs.rows(), a.pairs.regions)) print(`         ${line}`);
    const worst = a.pairs.rows().reduce((m, r) => (r.count && r.maxMs > m ? r.maxMs : m), 0);
    print(`[demo]   worst pair max ${Math.round(worst)} ms`);
  }
  print(
    `[demo] violations: ${report.violations.total} (rate ${(report.violations.rate * 100).toPrecision(3)} %, target < ${(report.violations.target * 100).toPrecision(2)} %); alerts fired: ${report.alerts.filter((x) => x.status === "firing").length}; divergent keys now: ${a.monitor.snapshot().divergentKeys}`,
  );
  print(
    `[demo] verdict: ${report.verdict.toUpperCase()}${report.reasons.length ? ` — ${report.reasons.join("; ")}` : ""}`,
  );
  print(`[demo] report: ${a.paths.htmlPath}`);
  print(`[demo]         ${a.paths.jsonPath}`);
}
