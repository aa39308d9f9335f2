#!/usr/bin/env -S npx tsx
// `meridian` — the command line of Meridian's monitoring: run the five-region demo, check a recorded
// history for linearizability, re-render a report.
import { mkdir, readFile } from "node:fs/promises";
import { dirname } from "node:path";
import { parseArgs } from "node:util";
import { type ConsistencyReport, renderReportHtml, writeReport } from "@meridian/monitor";
import { checkHistoryFile } from "./check.js";
import { DEMO_DEFAULTS } from "./demo/options.js";
import { runDemo } from "./demo/run-demo.js";
import { LoadFlagError } from "./load/errors.js";
import { countable, LOAD_USAGE, MAX_RUN_MS, parseLoadFlags } from "./load/flags.js";
import { runLoadCommand } from "./load/load-command.js";
import { DEFAULT_MIX } from "./load/mix.js";
import { runMonitorCommand } from "./monitor/monitor-command.js";
import { runSuitesCommand } from "./suites.js";

export const HELP = `meridian — multi-region consistency-aware cache: demo, checks, reports

Usage:
  meridian demo [--seconds N] [--port P] [--host H] [--reports DIR] [--inject stall] [--webhook URL] [--strict]
                [--topology in-process|processes] [--rate OPS_PER_S] [--symbols N] [--ticks TICKS_PER_S]
      Start five regions, the replicator, the invalidation consumers and market data (servers must be up:
      bash infra/up.sh), the consistency monitor and the live dashboard; offer client load open loop
      (--rate, default $MERIDIAN_DEMO_RATE or 500 ops/s per core, 1000 to 4000; operations not sent within
      1 s of their due time are shed and counted) and market data (--symbols, default
      $MERIDIAN_DEMO_SYMBOLS or 10000, at --ticks, default $MERIDIAN_DEMO_TICKS or 50 ticks/s); print
      progress, convergence per region and per region pair under the load; after N seconds write
      DIR/consistency-report.{html,json} and stop everything.
      Defaults: N = $MERIDIAN_DEMO_SECONDS or 60, P = $MERIDIAN_DASHBOARD_PORT or 8090 (0 = any free port),
      DIR = reports. --inject stall stops one region's consumer for half the run to show detection and
      alerts. --topology processes runs every service as its own OS process and one redis-server per
      region (a region's Redis or node can fail alone); the default runs them in this process.
      Exit code 0 once the report is written; with --strict, 1 when its verdict is FAIL.

  meridian monitor
      The consistency monitor + live dashboard as a long-running service over regions that run elsewhere
      (containers, the processes topology): MERIDIAN_REGIONS, MERIDIAN_NAMESPACE, MERIDIAN_REDIS_URLS (one
      Redis per region) or MERIDIAN_REDIS_URL, MERIDIAN_KAFKA_BROKERS, MERIDIAN_SCHEMA_REGISTRY_URL;
      listens on MERIDIAN_HOST:MERIDIAN_PORT (default 127.0.0.1:8090): /, /metrics, /healthz.

  meridian load [--rate N] [--duration S] [--mix class:op=weight,...] [--nodes region=url,...] [--transport http|direct]
                [--keys N] [--counters N] [--hot N] [--ramp S] [--max-in-flight N] [--shed-after-ms MS] [--timeout-ms MS]
                [--symbols N] [--ticks T]
      Open-loop load: N operations per second (default 2000) for S seconds (default 10), each due at a fixed
      time and its latency measured from then (a stalled target is not flattered); --ramp S climbs from
      0 to N over the first S seconds; with --shed-after-ms,
      an operation still unsent that long after its due time is dropped and counted as shed. The mix weighs
      (class, op) pairs: classes critical, important, cacheable; ops set (LWW), incr (PN-counter,
      important only), get; default ${DEFAULT_MIX}.
      Without --nodes it starts a five-region cluster here (servers must be up; --ticks T adds market data
      over --symbols N symbols) and prints convergence per region pair under the load; --transport direct
      calls the nodes in-process instead of over HTTP. Prints offered/achieved/errors/p50/p99 each second,
      then a summary and whether every region's counters equal the acknowledged increments (exit 1 if not).

  meridian check <history.json> [--budget-ms MS]
      Check a recorded history of read/write operations for linearizability (per key). The file is a JSON
      array of {client, key, op: "read"|"write", value, call, ret} (times in ms), or {"history": [...]}.
      Exit code 0: linearizable; 1: not (the counterexample is printed); 2: bad input / undecided.

  meridian suites [--clients N] [--ops N] [--stress-seconds S] [--reports DIR]
      Start a five-region cluster (servers must be up) and run the race suite (N clients, default 8, x ops
      each on two hot keys) and the stress suite (2N clients for S seconds, default 5) on critical data
      through the region nodes; each history is checked for linearizability and saved as
      DIR/<suite>-history.json. Exit code 0 when both are linearizable without errors, 1 otherwise.

  meridian report [--in FILE] [--out DIR]
      Re-render the HTML report from a JSON report (default reports/consistency-report.json) and print a
      summary.

  meridian --help
`;

export async function main(argv: string[]): Promise<number> {
  try {
    return await run(argv);
  } catch (err) {
    // Bad options (node:util parseArgs) are usage errors; anything else propagates.
    const code = (err as { code?: unknown }).code;
    if (typeof code === "string" && code.startsWith("ERR_PARSE_ARGS")) return usage((err as Error).message);
    throw err;
  }
}

const COMMANDS: Record<string, (args: string[]) => Promise<number>> = {
  demo: demoCommand,
  load: loadCommand,
  monitor: monitorCommand,
  check: checkCommand,
  suites: suitesCommand,
  report: reportCommand,
};

async function run(argv: string[]): Promise<number> {
  // `pnpm meridian -- <args>` passes the "--" through.
  const [command, ...rest] = argv[0] === "--" ? argv.slice(1) : argv;
  if (!command || command === "--help" || command === "-h" || command === "help") return help();
  const handler = Object.hasOwn(COMMANDS, command) ? COMMANDS[command] : undefined;
  return handler ? handler(rest) : usage(`unknown command ${command}`);
}

/** `meridian demo`: flags (else MERIDIAN_DEMO_* and the demo defaults) checked, then the demo run. */
async function demoCommand(rest: string[]): Promise<number> {
  const { values } = parseArgs({
    args: rest,
    options: {
      seconds: { type: "string" },
      port: { type: "string" },
      host: { type: "string" },
      reports: { type: "string" },
      inject: { type: "string" },
      topology: { type: "string" },
      webhook: { type: "string" },
      rate: { type: "string" },
      symbols: { type: "string" },
      ticks: { type: "string" },
      strict: { type: "boolean" },
      help: { type: "boolean" },
    },
  });
  if (values.help) return help();
  const seconds = Number(values.seconds ?? process.env.MERIDIAN_DEMO_SECONDS ?? 60);
  const port = Number(values.port ?? process.env.MERIDIAN_DASHBOARD_PORT ?? 8090);
  if (!Number.isFinite(seconds) || seconds <= 0 || seconds * 1000 > MAX_RUN_MS)
    return usage("--seconds must be a positive number, at most 20 days");
  if (!Number.isInteger(port) || port < 0) return usage("--port must be a port number");
  const opsPerSecond = Number(values.rate ?? process.env.MERIDIAN_DEMO_RATE ?? DEMO_DEFAULTS.opsPerSecond);
  const symbols = Number(values.symbols ?? process.env.MERIDIAN_DEMO_SYMBOLS ?? DEMO_DEFAULTS.symbols);
  const ticksPerSecond = Number(
    values.ticks ?? process.env.MERIDIAN_DEMO_TICKS ?? DEMO_DEFAULTS.ticksPerSecond,
  );
  if (!(opsPerSecond > 0) || !countable(opsPerSecond, seconds * 1000))
    return usage("--rate must be a positive number whose operations over --seconds can be counted");
  if (!Number.isInteger(symbols) || symbols < 1) return usage("--symbols must be a positive whole number");
  if (!(ticksPerSecond > 0)) return usage("--ticks must be a positive number");
  const inject = values.inject ?? process.env.MERIDIAN_DEMO_INJECT ?? "none";
  if (inject !== "none" && inject !== "stall") return usage("--inject takes: stall");
  const topology = values.topology ?? process.env.MERIDIAN_DEMO_TOPOLOGY ?? "in-process";
  if (topology !== "in-process" && topology !== "processes")
    return usage("--topology takes: in-process, processes");
  // Keep the console for progress: kafkajs' retried warnings (e.g. leader moves on a fresh broker) go
  // through the bus logger, whose level is LOG_LEVEL.
  process.env.LOG_LEVEL ??= process.env.MERIDIAN_LOG_LEVEL ?? "error";
  const result = await runDemo({
    seconds,
    port,
    host: values.host ?? process.env.MERIDIAN_DASHBOARD_HOST ?? "127.0.0.1",
    reportsDir: values.reports ?? "reports",
    inject,
    topology,
    webhookUrl: values.webhook ?? process.env.MERIDIAN_ALERT_WEBHOOK,
    opsPerSecond,
    symbols,
    ticksPerSecond,
  });
  // The demo succeeded when it ran and reported; --strict also requires a passing verdict.
  return values.strict && result.report.verdict !== "pass" ? 1 : 0;
}

/** `meridian load`: open-loop load; a bad flag is a usage error (exit 2). */
async function loadCommand(rest: string[]): Promise<number> {
  try {
    const flags = parseLoadFlags(rest);
    if (flags.help) return help();
    process.env.LOG_LEVEL ??= process.env.MERIDIAN_LOG_LEVEL ?? "error";
    return await runLoadCommand(flags, (l) => process.stdout.write(`${l}\n`));
  } catch (err) {
    if (!(err instanceof LoadFlagError)) throw err;
    process.stderr.write(`meridian load: ${err.message}\n${LOAD_USAGE}\n`);
    return 2;
  }
}

/** `meridian monitor`: the monitor service, until SIGINT / SIGTERM. */
async function monitorCommand(rest: string[]): Promise<number> {
  const { values } = parseArgs({ args: rest, options: { help: { type: "boolean" } } });
  if (values.help) return help();
  await runMonitorCommand();
  return new Promise<number>(() => undefined); // runs until SIGINT / SIGTERM
}

/** `meridian check <history.json>`: exit 0 linearizable, 1 not, 2 bad input or undecided. */
async function checkCommand(rest: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: rest,
    allowPositionals: true,
    options: { "budget-ms": { type: "string" }, help: { type: "boolean" } },
  });
  if (values.help) return help();
  const file = positionals[0];
  if (!file) return usage("check needs a history file");
  const budgetMs = values["budget-ms"] ? Number(values["budget-ms"]) : undefined;
  const out = await checkHistoryFile(file, budgetMs);
  process.stdout.write(`${out.text}\n`);
  return out.exitCode;
}

/** `meridian suites`: the race and stress suites on critical data of a cluster started here. */
async function suitesCommand(rest: string[]): Promise<number> {
  const { values } = parseArgs({
    args: rest,
    options: {
      clients: { type: "string" },
      ops: { type: "string" },
      "stress-seconds": { type: "string" },
      reports: { type: "string" },
      help: { type: "boolean" },
    },
  });
  if (values.help) return help();
  const clients = Number(values.clients ?? 8);
  const opsPerClient = Number(values.ops ?? 40);
  const stressSeconds = Number(values["stress-seconds"] ?? 5);
  for (const [name, v] of [
    ["--clients", clients],
    ["--ops", opsPerClient],
    ["--stress-seconds", stressSeconds],
  ] as const) {
    if (!Number.isFinite(v) || v <= 0) return usage(`${name} must be a positive number`);
  }
  process.env.LOG_LEVEL ??= process.env.MERIDIAN_LOG_LEVEL ?? "error";
  const reportsDir = values.reports ?? "reports";
  await mkdir(reportsDir, { recursive: true });
  const report = await runSuitesCommand({
    clients,
    opsPerClient,
    stressSeconds,
    reportsDir,
    print: (l) => process.stdout.write(`${l}\n`),
  });
  return report.passed ? 0 : 1;
}

/** `meridian report`: re-renders a JSON report as HTML and prints its summary. */
async function reportCommand(rest: string[]): Promise<number> {
  const { values } = parseArgs({
    args: rest,
    options: { in: { type: "string" }, out: { type: "string" }, help: { type: "boolean" } },
  });
  if (values.help) return help();
  const input = values.in ?? "reports/consistency-report.json";
  let report: ConsistencyReport;
  try {
    report = JSON.parse(await readFile(input, "utf8")) as ConsistencyReport;
  } catch (err) {
    return usage(`cannot read report ${input}: ${(err as Error).message}`);
  }
  if (!report || typeof report !== "object" || !Array.isArray(report.regions) || !report.violations) {
    return usage(`${input} is not a Meridian consistency report`);
  }
  const { htmlPath, jsonPath } = await writeReport(report, values.out ?? dirname(input));
  renderReportHtml(report);
  process.stdout.write(
    `${report.title}: ${report.verdict.toUpperCase()} — ${report.violations.total} violations in ${report.violations.operations} operations, ` +
      `convergence p99 ${Math.round(report.overallConvergence?.p99 ?? report.divergence.overall.p99)} ms\n` +
      `${report.reasons.map((r) => `  - ${r}\n`).join("")}HTML: ${htmlPath}\nJSON: ${jsonPath}\n`,
  );
  return 0;
}

function help(): number {
  process.stdout.write(HELP);
  return 0;
}

function usage(message: string): number {
  process.stderr.write(`meridian: ${message}\n\n${HELP}`);
  return 2;
}

// Run when executed directly (not when imported by tests).
if (process.argv[1] && /meridian\.(ts|js)$/.test(process.argv[1])) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (err) => {
      process.stderr.write(`meridian: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
      process.exit(1);
    },
  );
}
