// Hand-written inline SVG charts for the HTML report (no external libraries, no CDN).

export const PALETTE = ["#2563eb", "#16a34a", "#d97706", "#9333ea", "#dc2626", "#0891b2", "#4b5563"];

export function escapeHtml(s: string): string {
  return s.replace(
    /[&<>"']/g,
    (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]!,
  );
}

export interface LineSeries {
  name: string;
  points: Array<[number, number]>;
}

export interface ChartOptions {
  title: string;
  yLabel: string;
  width?: number;
  height?: number;
  /** A dashed horizontal line (e.g. the 5 s target). */
  target?: { value: number; label: string };
  /** Formats x values (e.g. seconds since start). */
  xFormat?: (x: number) => string;
}

const M = { left: 60, right: 150, top: 30, bottom: 48 };

function niceMax(v: number): number {
  if (v <= 0) return 1;
  const p = 10 ** Math.floor(Math.log10(v));
  for (const m of [1, 2, 2.5, 5, 10]) if (m * p >= v) return m * p;
  return 10 * p;
}

function fmt(v: number): string {
  if (v === 0) return "0";
  if (Math.abs(v) >= 1000) return `${(v / 1000).toFixed(v % 1000 === 0 ? 0 : 1)}k`;
  if (Math.abs(v) < 0.01) return v.toExponential(0);
  return Number.isInteger(v) ? String(v) : v.toFixed(2);
}

function frame(o: ChartOptions, yMax: number, w: number, h: number, body: string, xTicks: string): string {
  const plotH = h - M.top - M.bottom;
  const ticks = [0, 0.25, 0.5, 0.75, 1]
    .map((f) => {
      const y = M.top + plotH * (1 - f);
      return `<line x1="${M.left}" x2="${w - M.right}" y1="${y}" y2="${y}" stroke="#e5e7eb"/><text x="${M.left - 6}" y="${y + 4}" text-anchor="end" font-size="11">${fmt(yMax * f)}</text>`;
    })
    .join("");
  let target = "";
  if (o.target && o.target.value <= yMax) {
    const y = M.top + plotH * (1 - o.target.value / yMax);
    // Label just above the line at the left, clear of the legend on the right.
    target = `<line x1="${M.left}" x2="${w - M.right}" y1="${y}" y2="${y}" stroke="#dc2626" stroke-dasharray="6 4"/><text x="${M.left + 4}" y="${y - M.top < 14 ? y + 13 : y - 4}" font-size="11" fill="#dc2626">${escapeHtml(o.target.label)}</text>`;
  }
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${w}" height="${h}" viewBox="0 0 ${w} ${h}" role="img" aria-label="${escapeHtml(o.title)}" font-family="sans-serif">
<text x="${M.left}" y="18" font-size="14" font-weight="bold">${escapeHtml(o.title)}</text>
<text x="14" y="${M.top + plotH / 2}" font-size="11" transform="rotate(-90 14 ${M.top + plotH / 2})" text-anchor="middle">${escapeHtml(o.yLabel)}</text>
${ticks}${xTicks}${body}${target}
<line x1="${M.left}" x2="${M.left}" y1="${M.top}" y2="${h - M.bottom}" stroke="#111"/><line x1="${M.left}" x2="${w - M.right}" y1="${h - M.bottom}" y2="${h - M.bottom}" stroke="#111"/>
</svg>`;
}

export function lineChart(series: LineSeries[], o: ChartOptions): string {
  const w = o.width ?? 760;
  const h = o.height ?? 280;
  const all = series.flatMap((s) => s.points);
  const xMin = all.length ? Math.min(...all.map((p) => p[0])) : 0;
  const xMax = all.length ? Math.max(...all.map((p) => p[0])) : 1;
  const yMax = niceMax(Math.max(o.target?.value ?? 0, ...all.map((p) => p[1]), 0));
  const plotW = w - M.left - M.right;
  const plotH = h - M.top - M.bottom;
  const sx = (x: number) => M.left + (xMax === xMin ? 0 : ((x - xMin) / (xMax - xMin)) * plotW);
  const sy = (y: number) => M.top + plotH * (1 - y / yMax);
  const body = series
    .map((s, i) => {
      const color = PALETTE[i % PALETTE.length]!;
      const d = s.points
        .map((p, j) => `${j ? "L" : "M"}${sx(p[0]).toFixed(1)},${sy(p[1]).toFixed(1)}`)
        .join("");
      const legendY = M.top + 14 * i + 6;
      return `<path d="${d}" fill="none" stroke="${color}" stroke-width="1.8"/><rect x="${w - M.right + 8}" y="${legendY - 8}" width="10" height="10" fill="${color}"/><text x="${w - M.right + 22}" y="${legendY + 1}" font-size="11">${escapeHtml(s.name)}</text>`;
    })
    .join("");
  const xf = o.xFormat ?? ((x: number) => fmt(x));
  const xTicks = [0, 0.5, 1]
    .map((f) => {
      const x = xMin + (xMax - xMin) * f;
      return `<text x="${sx(x)}" y="${h - M.bottom + 16}" text-anchor="middle" font-size="11">${escapeHtml(xf(x))}</text>`;
    })
    .join("");
  return frame(o, yMax, w, h, body, xTicks);
}

export interface BarGroup {
  label: string;
  bars: Array<{ name: string; value: number }>;
}

export function barChart(groups: BarGroup[], o: ChartOptions): string {
  const w = o.width ?? 760;
  const h = o.height ?? 280;
  const values = groups.flatMap((g) => g.bars.map((b) => b.value));
  const yMax = niceMax(Math.max(o.target?.value ?? 0, ...values, 0));
  const plotW = w - M.left - M.right;
  const plotH = h - M.top - M.bottom;
  const groupW = plotW / Math.max(1, groups.length);
  const names = [...new Set(groups.flatMap((g) => g.bars.map((b) => b.name)))];
  const barW = Math.max(2, (groupW * 0.8) / Math.max(1, names.length));
  const body = groups
    .map((g, gi) => {
      const x0 = M.left + gi * groupW + groupW * 0.1;
      const bars = g.bars
        .map((b) => {
          const k = names.indexOf(b.name);
          const bh = (Math.min(b.value, yMax) / yMax) * plotH;
          return `<rect x="${(x0 + k * barW).toFixed(1)}" y="${(M.top + plotH - bh).toFixed(1)}" width="${(barW - 1).toFixed(1)}" height="${bh.toFixed(1)}" fill="${PALETTE[k % PALETTE.length]}"><title>${escapeHtml(`${g.label} ${b.name}: ${fmt(b.value)}`)}</title></rect>`;
        })
        .join("");
      // Many groups: slant the labels so long names do not run into each other.
      const cx = x0 + (groupW * 0.8) / 2;
      const ly = h - M.bottom + 14;
      const label =
        groups.length > 5
          ? `<text x="${cx}" y="${ly}" text-anchor="end" font-size="10" transform="rotate(-18 ${cx} ${ly})">${escapeHtml(g.label)}</text>`
          : `<text x="${cx}" y="${ly + 2}" text-anchor="middle" font-size="11">${escapeHtml(g.label)}</text>`;
      return `${bars}${label}`;
    })
    .join("");
  const legend = names
    .map(
      (n, i) =>
        `<rect x="${w - M.right + 8}" y="${M.top + 14 * i - 2}" width="10" height="10" fill="${PALETTE[i % PALETTE.length]}"/><text x="${w - M.right + 22}" y="${M.top + 14 * i + 7}" font-size="11">${escapeHtml(n)}</text>`,
    )
    .join("");
  return frame(o, yMax, w, h, body + legend, "");
}

/**
 * Violation rate against target on a logarithmic scale (1e-8 … 1 of operations): a rate many decades
 * below or above the target stays readable, and a zero rate is drawn as "none".
 */
export function rateChart(rate: number, target: number, title: string): string {
  const w = 760;
  const h = 150;
  const left = 150;
  const right = 40;
  const minExp = -8;
  const plotW = w - left - right;
  const sx = (v: number) => left + ((Math.log10(Math.max(v, 10 ** minExp)) - minExp) / -minExp) * plotW;
  const ticks = Array.from({ length: -minExp + 1 }, (_, i) => minExp + i)
    .map((e) => {
      const x = sx(10 ** e);
      const pctValue = 10 ** e * 100;
      const label = `${pctValue >= 1 ? String(pctValue) : pctValue.toFixed(Math.round(-Math.log10(pctValue)))} %`;
      return `<line x1="${x}" x2="${x}" y1="30" y2="${h - 30}" stroke="#e5e7eb"/><text x="${x}" y="${h - 14}" font-size="10" text-anchor="middle">${escapeHtml(label)}</text>`;
    })
    .join("");
  const bar = (y: number, v: number, color: string, name: string) => {
    const width = v > 0 ? sx(v) - left : 0;
    const text = v > 0 ? `${(v * 100).toPrecision(3)} %` : "0 (none)";
    return `<text x="${left - 8}" y="${y + 13}" font-size="12" text-anchor="end">${escapeHtml(name)}</text><rect x="${left}" y="${y}" width="${width.toFixed(1)}" height="18" fill="${color}"/><text x="${left + width + 6}" y="${y + 13}" font-size="12">${escapeHtml(text)}</text>`;
  };
  const over = rate >= target && rate > 0;
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${w}" height="${h}" viewBox="0 0 ${w} ${h}" role="img" aria-label="${escapeHtml(title)}" font-family="sans-serif">
<text x="10" y="18" font-size="14" font-weight="bold">${escapeHtml(title)}</text>${ticks}
${bar(38, rate, over ? "#dc2626" : "#16a34a", "measured")}${bar(68, target, "#9ca3af", "target (max)")}
<line x1="${sx(target)}" x2="${sx(target)}" y1="30" y2="${h - 30}" stroke="#dc2626" stroke-dasharray="5 3"/>
</svg>`;
}
