// The end-of-run report: one JSON document (ConsistencyReport) and an HTML rendering of the same data
// with inline SVG charts (convergence per region, latency percentiles, violation rate against target).
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { AlertEvent } from "./alerts.js";
import { type LatencyMapRow, renderLatencyMap } from "./latency-map.js";
import type { Percentiles } from "./stats.js";
import type { SuiteReport } from "./suites.js";
import { barChart, escapeHtml, lineChart, rateChart } from "./svg.js";
import type { Violation } from "./violations.js";

export interface TimelinePoint {
  t: number;
  regionLagMs: Record<string, number>;
  regionConvergenceP99Ms: Record<string, number>;
  opsPerSec: Record<string, number>;
  violations: number;
  alertsFiring: number;
}

export interface ReportInput {
  title: string;
  startedAt: number;
  endedAt: number;
  regions: string[];
  convergenceTargetMs?: number;
  divergence: {
    overall: Percentiles;
    perPair: Record<string, Percentiles>;
    perRegion: Record<string, Percentiles | null>;
  };
  /** Per region: every convergence observation (propagation and divergence closing). */
  regionConvergence: Record<string, Percentiles | null>;
  overallConvergence?: Percentiles;
  latency: Record<string, Percentiles>;
  staleness: Record<string, Percentiles>;
  violations: {
    total: number;
    byKind: Record<string, number>;
    operations: number;
    /** Checks the monitor made, by kind (strong_read: sampled reads; divergence: keys compared). */
    checks?: Record<string, number>;
    rate: number;
    target: number;
    list: Violation[];
  };
  alerts: AlertEvent[];
  alertsFiring: AlertEvent[];
  timeline: TimelinePoint[];
  suites: SuiteReport[];
  /** Critical data per (client region, home region), when measured (WAN layer on). */
  latencyMap?: LatencyMapRow[];
}

export interface ConsistencyReport extends ReportInput {
  generatedAt: string;
  durationMs: number;
  convergenceTargetMs: number;
  verdict: "pass" | "fail";
  reasons: string[];
}

export function buildReport(input: ReportInput): ConsistencyReport {
  const targetMs = input.convergenceTargetMs ?? 5000;
  const reasons: string[] = [];
  if (input.violations.total > 0) {
    reasons.push(
      `${input.violations.total} consistency violation(s): ${Object.entries(input.violations.byKind)
        .map(([k, n]) => `${k}=${n}`)
        .join(", ")}`,
    );
  }
  if (input.violations.rate >= input.violations.target && input.violations.total > 0) {
    reasons.push(
      `violation rate ${(input.violations.rate * 100).toFixed(5)} % is not below the target ${(input.violations.target * 100).toFixed(5)} %`,
    );
  }
  for (const [region, p] of Object.entries(input.regionConvergence)) {
    if (p && p.p99 > targetMs)
      reasons.push(`${region}: convergence p99 ${Math.round(p.p99)} ms > ${targetMs} ms`);
  }
  const fired = new Set(input.alerts.filter((a) => a.status === "firing").map((a) => a.rule));
  if (fired.size > 0) reasons.push(`alerts fired: ${[...fired].join(", ")}`);
  for (const s of input.suites.flatMap((r) => r.suites)) {
    if (s.linearizable === false) reasons.push(`suite ${s.name}: history not linearizable`);
  }
  return {
    ...input,
    convergenceTargetMs: targetMs,
    generatedAt: new Date(input.endedAt).toISOString(),
    durationMs: input.endedAt - input.startedAt,
    verdict: reasons.length === 0 ? "pass" : "fail",
    reasons,
  };
}

export async function writeReport(
  report: ConsistencyReport,
  dir: string,
  baseName = "consistency-report",
): Promise<{ jsonPath: string; htmlPath: string }> {
  await mkdir(dir, { recursive: true });
  const jsonPath = join(dir, `${baseName}.json`);
  const htmlPath = join(dir, `${baseName}.html`);
  await writeFile(jsonPath, `${JSON.stringify(report, null, 2)}\n`);
  await writeFile(htmlPath, renderReportHtml(report));
  return { jsonPath, htmlPath };
}

const ms = (v: number) => `${Math.round(v)} ms`;
const pct = (v: number) => `${(v * 100).toPrecision(3)} %`;

export function renderReportHtml(r: ConsistencyReport): string {
  const t0 = r.startedAt;
  const secs = (t: number) => `${Math.round((t - t0) / 1000)} s`;
  const lagChart = lineChart(
    r.regions.map((region) => ({
      name: region,
      points: r.timeline.map((p) => [p.t, p.regionLagMs[region] ?? 0] as [number, number]),
    })),
    {
      title: "Convergence lag per region over time",
      yLabel: "lag (ms)",
      target: { value: r.convergenceTargetMs, label: `target ${r.convergenceTargetMs} ms` },
      xFormat: secs,
    },
  );
  const p99Chart = lineChart(
    r.regions.map((region) => ({
      name: region,
      points: r.timeline.map((p) => [p.t, p.regionConvergenceP99Ms[region] ?? 0] as [number, number]),
    })),
    { title: "Convergence time p99 per region (recent window)", yLabel: "ms", xFormat: secs },
  );
  const convBars = barChart(
    r.regions.map((region) => {
      const p = r.regionConvergence[region];
      return {
        label: region,
        bars: [
          { name: "p50", value: p?.p50 ?? 0 },
          { name: "p95", value: p?.p95 ?? 0 },
          { name: "p99", value: p?.p99 ?? 0 },
          { name: "max", value: p?.max ?? 0 },
        ],
      };
    }),
    {
      title: "Convergence time per region (whole run)",
      yLabel: "ms",
      target: { value: r.convergenceTargetMs, label: "5 s target" },
    },
  );
  const latencyEntries = Object.entries(r.latency);
  const latencyBars = barChart(
    latencyEntries.map(([name, p]) => ({
      label: name,
      bars: [
        { name: "p50", value: p.p50 },
        { name: "p95", value: p.p95 },
        { name: "p99", value: p.p99 },
      ],
    })),
    { title: "Operation latency percentiles", yLabel: "ms" },
  );
  const opsChart = lineChart(
    r.regions.map((region) => ({
      name: region,
      points: r.timeline.map((p) => [p.t, p.opsPerSec[region] ?? 0] as [number, number]),
    })),
    { title: "Operations per second per region", yLabel: "ops/s", xFormat: secs },
  );
  const v = r.violations;
  const rateBars = rateChart(
    v.rate,
    v.target,
    "Violation rate against target (< 0.001 % of operations), log scale",
  );
  const row = (cells: string[]) => `<tr>${cells.map((c) => `<td>${c}</td>`).join("")}</tr>`;
  const alertRows = r.alerts
    .map((a) =>
      row([
        new Date(a.status === "resolved" ? (a.endsAt ?? a.startsAt) : a.startsAt).toISOString(),
        `<b class="${a.status}">${a.status}</b>`,
        escapeHtml(a.rule),
        escapeHtml(a.severity),
        escapeHtml(JSON.stringify(a.labels)),
        escapeHtml(String(Math.round(a.value * 1e6) / 1e6)),
        escapeHtml(String(a.threshold)),
      ]),
    )
    .join("");
  const violationRows = v.list
    .slice(-100)
    .map((x) =>
      row([
        new Date(x.at).toISOString(),
        escapeHtml(x.kind),
        escapeHtml(x.key ?? ""),
        escapeHtml(x.region ?? ""),
        escapeHtml(x.message),
      ]),
    )
    .join("");
  const suiteRows = r.suites
    .flatMap((s) => s.suites)
    .map((s) =>
      row([
        escapeHtml(s.name),
        String(s.operations),
        String(s.errors),
        s.throughputOpsPerSec.toFixed(0),
        ms(s.latency.p50),
        ms(s.latency.p99),
        s.linearizable === null ? "not checked" : s.linearizable ? "yes" : "<b class=firing>NO</b>",
      ]),
    )
    .join("");
  const pairRows = Object.entries(r.divergence.perPair)
    .map(([pair, p]) =>
      row([escapeHtml(pair.replace("|", " ↔ ")), String(p.count), ms(p.p50), ms(p.p99), ms(p.max)]),
    )
    .join("");
  const overall = r.overallConvergence ?? r.divergence.overall;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(r.title)}</title>
<style>
body{font-family:system-ui,sans-serif;margin:24px;color:#111;max-width:1100px}
h1{margin-bottom:4px} .verdict{font-size:20px;padding:6px 12px;border-radius:6px;display:inline-block}
.pass{background:#dcfce7;color:#166534} .fail{background:#fee2e2;color:#991b1b}
.cards{display:flex;gap:12px;flex-wrap:wrap;margin:16px 0} .card{border:1px solid #ddd;border-radius:8px;padding:10px 14px;min-width:180px}
.card b{display:block;font-size:22px} table{border-collapse:collapse;margin:8px 0 20px;font-size:13px}
td,th{border:1px solid #ddd;padding:4px 8px;text-align:left} .firing{color:#b91c1c} .resolved{color:#15803d}
section{margin:18px 0}
</style></head><body>
<h1>${escapeHtml(r.title)}</h1>
<p>${escapeHtml(r.generatedAt)} · run of ${(r.durationMs / 1000).toFixed(1)} s · regions: ${r.regions.map(escapeHtml).join(", ")}</p>
<div id="verdict" class="verdict ${r.verdict}">${r.verdict === "pass" ? "PASS" : "FAIL"}</div>
${r.reasons.length ? `<ul id="reasons">${r.reasons.map((x) => `<li>${escapeHtml(x)}</li>`).join("")}</ul>` : ""}
<div class="cards">
<div class="card">convergence p99<b>${ms(overall.p99)}</b>target ${r.convergenceTargetMs} ms (${overall.count} observations)</div>
<div class="card">violations<b id="violation-count">${v.total}</b>of ${v.operations} operations observed${
    v.checks
      ? `<br>${Object.entries(v.checks)
          .map(([k, n]) => `${escapeHtml(k)}: ${n}`)
          .join(", ")} checks`
      : ""
  }</div>
<div class="card">violation rate<b>${pct(v.rate)}</b>target &lt; ${pct(v.target)}</div>
<div class="card">alerts fired<b id="alert-count">${r.alerts.filter((a) => a.status === "firing").length}</b>${r.alertsFiring.length} still firing at the end</div>
</div>
<section>${lagChart}</section>
<section>${convBars}</section>
<section>${p99Chart}</section>
<section>${latencyEntries.length ? latencyBars : "<p>No operation latencies were recorded.</p>"}</section>
<section>${opsChart}</section>
<section>${rateBars}</section>
${renderLatencyMap(r.latencyMap ?? [])}
<h2>Convergence per region pair</h2>
<table><tr><th>pair</th><th>observations</th><th>p50</th><th>p99</th><th>max</th></tr>${pairRows || row(["none observed", "", "", "", ""])}</table>
<h2>Alerts</h2>
<table id="alerts"><tr><th>time</th><th>status</th><th>rule</th><th>severity</th><th>labels</th><th>value</th><th>threshold</th></tr>${alertRows || row(["none", "", "", "", "", "", ""])}</table>
<h2>Violations</h2>
<table id="violations"><tr><th>time</th><th>kind</th><th>key</th><th>region</th><th>what</th></tr>${violationRows || row(["none", "", "", "", ""])}</table>
<h2>Test suites</h2>
<table><tr><th>suite</th><th>ops</th><th>errors</th><th>ops/s</th><th>p50</th><th>p99</th><th>linearizable</th></tr>${suiteRows || row(["none run", "", "", "", "", "", ""])}</table>
<p>The same data: the JSON file beside this one.</p>
</body></html>
`;
}
