// Text of a load run: the progress line printed each second, the convergence matrix per region pair
// and the closing summary.
import type { LatencySummary } from "./histogram.js";
import type { LoadRunResult } from "./load-run.js";
import type { SecondStats } from "./open-loop.js";
import type { PairRow } from "./pair-convergence.js";

export function ms(v: number): string {
  if (!Number.isFinite(v)) return "-";
  return v < 10 ? `${v.toFixed(1)} ms` : `${Math.round(v)} ms`;
}

export function progressLine(s: SecondStats): string {
  const backlog = s.backlog > 0 ? `  backlog ${s.backlog}` : "";
  const shed = s.shed > 0 ? `  shed ${s.shed}` : "";
  return `[load] t=${String(s.second).padStart(3)}s  offered ${s.offered}/s  achieved ${s.achieved}/s  errors ${s.errors}${shed}  p50 ${ms(s.latency.p50Ms)}  p99 ${ms(s.latency.p99Ms)}  in flight ${s.inFlight}${backlog}`;
}

export function convergenceLine(label: string, c: LatencySummary): string {
  return `${label}: ${c.count} merges, p50 ${ms(c.p50Ms)}  p99 ${ms(c.p99Ms)}  max ${ms(c.maxMs)}`;
}

/** Rows: origin region (where written); columns: region merged into; cells p50/p99 in ms. */
export function pairMatrix(rows: readonly PairRow[], regions: readonly string[]): string[] {
  const w = Math.max(9, ...regions.map((r) => r.length)) + 2;
  const cell = (r: PairRow | undefined) =>
    !r || r.count === 0 ? "-" : `${Math.round(r.p50Ms)}/${Math.round(r.p99Ms)}`;
  const lines = [`${"from \\ to".padEnd(w)}${regions.map((r) => r.padStart(w)).join("")}`];
  for (const origin of regions) {
    const cells = regions.map((region) =>
      origin === region ? "·" : cell(rows.find((r) => r.origin === origin && r.region === region)),
    );
    lines.push(`${origin.padEnd(w)}${cells.map((c) => c.padStart(w)).join("")}`);
  }
  return lines;
}

export function summaryLines(r: LoadRunResult, rateTarget: number): string[] {
  const seconds = r.elapsedMs / 1000;
  const ops = Object.entries(r.byOp)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([k, n]) => `${k} ${n}`)
    .join(", ");
  return [
    `[load] offered ${r.offered} (${rateTarget}/s), sent ${r.sent}, acknowledged ${r.achieved}, errors ${r.errors}${r.shed ? `, shed ${r.shed} (unsent past their deadline: the target served less than offered)` : ""}${r.unsent ? `, never sent ${r.unsent}` : ""} in ${seconds.toFixed(1)} s (${Math.round(r.achieved / seconds)}/s)`,
    `[load] latency from the intended send time: p50 ${ms(r.latency.p50Ms)}  p99 ${ms(r.latency.p99Ms)}  max ${ms(r.latency.maxMs)}`,
    `[load] by operation: ${ops || "none"}`,
    ...r.sampleErrors.map((e) => `[load] error: ${e}`),
  ];
}
