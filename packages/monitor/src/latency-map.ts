// The report's latency map: an operation's p50 / p99 per (client region, home region) pair, beside the
// physical floor (the configured round trip between the two), so a reader sees what geography costs.
import { percentiles } from "./stats.js";
import { escapeHtml } from "./svg.js";

export interface LatencyMapRow {
  client: string;
  home: string;
  op: string;
  samples: number;
  errors: number;
  p50: number;
  p99: number;
  floorMs: number;
}

export function latencyMapRow(s: {
  client: string;
  home: string;
  op: string;
  samplesMs: readonly number[];
  errors: number;
  floorMs: number;
}): LatencyMapRow {
  const p = percentiles(s.samplesMs);
  return {
    client: s.client,
    home: s.home,
    op: s.op,
    samples: s.samplesMs.length,
    errors: s.errors,
    p50: p.p50,
    p99: p.p99,
    floorMs: s.floorMs,
  };
}

const ms = (v: number): string => `${v < 10 ? v.toFixed(1) : Math.round(v)}`;

/** One table per operation: rows = client region, columns = home region, cells = p50 / p99 (floor). */
export function renderLatencyMap(rows: readonly LatencyMapRow[]): string {
  if (rows.length === 0) return "";
  const clients = [...new Set(rows.map((r) => r.client))];
  const homes = [...new Set(rows.map((r) => r.home))];
  const tables = [...new Set(rows.map((r) => r.op))].map((op) => {
    const cell = (client: string, home: string): string => {
      const r = rows.find((x) => x.op === op && x.client === client && x.home === home);
      if (!r) return "<td></td>";
      const errs = r.errors ? ` · ${r.errors} failed` : "";
      return `<td>${ms(r.p50)} / ${ms(r.p99)}<br><small>floor ${ms(r.floorMs)}${errs}</small></td>`;
    };
    const head = homes.map((h) => `<th>home ${escapeHtml(h)}</th>`).join("");
    const body = clients
      .map((c) => `<tr><th>client ${escapeHtml(c)}</th>${homes.map((h) => cell(c, h)).join("")}</tr>`)
      .join("");
    return `<h3>critical ${escapeHtml(op)}: p50 / p99 ms</h3><table><tr><th></th>${head}</tr>${body}</table>`;
  });
  return `<h2>Latency map: critical data per (client region, home region)</h2>
<p>Measured through the region nodes with the WAN layer on; the floor is the configured round trip.</p>
${tables.join("\n")}`;
}
