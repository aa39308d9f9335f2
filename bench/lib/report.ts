// Shared figures and printing for every bench/<area>: percentiles, ratio columns, the machine line,
// and BENCHMARKS.md sections (each area owns the text between its two markers, so areas never clash).
import { readFileSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";

/** True under `pnpm bench --quick` (scripts/bench.sh exports it): each area keeps its run short. */
export const QUICK = process.env.MERIDIAN_BENCH_QUICK === "1" || process.argv.includes("--quick");

/** Value at quantile q (0..1) of unsorted samples; NaN for none. */
export function quantile(samples: readonly number[], q: number): number {
  if (samples.length === 0) return Number.NaN;
  const sorted = [...samples].sort((a, b) => a - b);
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[i] as number;
}

export const median = (samples: readonly number[]): number => quantile(samples, 0.5);

/** The machine and date a table was measured on, printed above it and stored with it. */
export function machineLine(): string {
  const cpu = os.cpus()[0]?.model.trim() ?? "unknown CPU";
  const gib = (os.totalmem() / 2 ** 30).toFixed(0);
  return `${os.hostname()} · ${cpu} · ${os.cpus().length} cores · ${gib} GiB · node ${process.version} · ${new Date().toISOString()}`;
}

export type Cell = string | number;

/** Formats numbers with at most 3 significant decimals; NaN and undefined print as "—". */
export function fmt(v: Cell | undefined): string {
  if (v === undefined) return "—";
  if (typeof v === "string") return v;
  if (!Number.isFinite(v)) return "—";
  if (Math.abs(v) >= 1000) return Math.round(v).toLocaleString("en-US");
  return Number(v.toPrecision(3)).toString();
}

/** A GitHub-flavoured Markdown table. */
export function markdownTable(header: readonly string[], rows: readonly (readonly Cell[])[]): string {
  const line = (cells: readonly string[]) => `| ${cells.join(" | ")} |`;
  return [line(header), line(header.map(() => "---")), ...rows.map((r) => line(r.map(fmt)))].join("\n");
}

/**
 * Replaces (or appends) the section of BENCHMARKS.md between `<!-- bench:AREA:start -->` and
 * `<!-- bench:AREA:end -->`. Skipped under --quick so a short run never overwrites the full figures.
 */
export function writeBenchmarksSection(area: string, markdown: string, file = defaultBenchmarksFile()): void {
  if (QUICK && process.env.MERIDIAN_BENCH_WRITE !== "1") return;
  const start = `<!-- bench:${area}:start -->`;
  const end = `<!-- bench:${area}:end -->`;
  const block = `${start}\n${markdown.trim()}\n${end}`;
  let text = "";
  try {
    text = readFileSync(file, "utf8");
  } catch {
    text = "# Benchmarks\n";
  }
  const from = text.indexOf(start);
  const to = text.indexOf(end);
  const next =
    from >= 0 && to > from
      ? text.slice(0, from) + block + text.slice(to + end.length)
      : `${text.trimEnd()}\n\n${block}\n`;
  writeFileSync(file, next);
}

function defaultBenchmarksFile(): string {
  return path.resolve(import.meta.dirname, "../../BENCHMARKS.md");
}
