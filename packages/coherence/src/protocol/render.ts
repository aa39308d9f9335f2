// Renders the protocol tables as Markdown, so the README shows exactly what the code interprets
// (a unit test fails if the README's copy drifts from the tables).
import { CACHE_TABLE, type CacheTable } from "./cache-table.js";
import { DIRECTORY_TABLE, type DirectoryTable } from "./directory-table.js";

export function renderCacheTable(table: CacheTable = CACHE_TABLE): string {
  const rows = table.filter((r) => r.actions[0] !== "stall");
  const stalls = table.filter((r) => r.actions[0] === "stall");
  const lines = ["| state | event | actions | next |", "|---|---|---|---|"];
  for (const r of rows)
    lines.push(`| ${r.state} | ${r.event} | ${r.actions.join(", ") || "—"} | ${r.next} |`);
  const byState = new Map<string, string[]>();
  for (const r of stalls) byState.set(r.state, [...(byState.get(r.state) ?? []), r.event]);
  for (const [s, evs] of byState) lines.push(`| ${s} | ${evs.join(" / ")} | stall | ${s} |`);
  return lines.join("\n");
}

export function renderDirectoryTable(table: DirectoryTable = DIRECTORY_TABLE): string {
  const rows = table.filter((r) => r.actions[0] !== "stall");
  const stalls = table.filter((r) => r.actions[0] === "stall");
  const lines = ["| state | event | guard | actions | next |", "|---|---|---|---|---|"];
  for (const r of rows) {
    lines.push(`| ${r.state} | ${r.event} | ${r.guard} | ${r.actions.join(", ") || "—"} | ${r.next} |`);
  }
  const states = [...new Set(stalls.map((r) => r.state))];
  const events = [...new Set(stalls.map((r) => r.event))];
  if (stalls.length > 0)
    lines.push(`| ${states.join(", ")} | ${events.join(" / ")} | always | stall | (same) |`);
  return lines.join("\n");
}
