// The real `prometheus` binary (Debian's package) as a child process on a free port: a temporary config
// that scrapes the given targets every second and loads the given rule files, plus a small HTTP API client.
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort, terminate } from "@meridian/cluster";

export const PROMETHEUS_BIN = process.env.MERIDIAN_PROMETHEUS ?? "prometheus";
export const PROMTOOL_BIN = process.env.MERIDIAN_PROMTOOL ?? "promtool";

/** Throws a clear error when a binary is not installed (CI installs Debian's `prometheus` package). */
export function requireBinary(bin: string): void {
  try {
    execFileSync(bin, ["--version"], { stdio: "ignore" });
  } catch {
    throw new Error(
      `${bin} not found: apt-get install -y prometheus (or set MERIDIAN_PROMETHEUS/MERIDIAN_PROMTOOL)`,
    );
  }
}

export interface ScrapeJob {
  job: string;
  /** host:port targets serving /metrics. */
  targets: string[];
}

export interface PrometheusAlert {
  labels: Record<string, string>;
  state: "pending" | "firing";
}

export interface RunningPrometheus {
  url: string;
  /** Instant query; returns the result vector. */
  query(promql: string): Promise<{ metric: Record<string, string>; value: [number, string] }[]>;
  alerts(): Promise<PrometheusAlert[]>;
  metricNames(): Promise<string[]>;
  stop(): Promise<void>;
}

function configYaml(jobs: readonly ScrapeJob[], ruleFiles: readonly string[]): string {
  const scrape = jobs
    .map(
      (j) =>
        `  - job_name: ${JSON.stringify(j.job)}\n    static_configs: [{ targets: ${JSON.stringify(j.targets)} }]`,
    )
    .join("\n");
  return [
    "global: { scrape_interval: 1s, evaluation_interval: 1s, scrape_timeout: 900ms }",
    `rule_files: ${JSON.stringify(ruleFiles)}`,
    "scrape_configs:",
    scrape,
    "",
  ].join("\n");
}

async function getJson<T>(url: string): Promise<T> {
  const res = await fetch(url, { signal: AbortSignal.timeout(5000) });
  const body = (await res.json()) as { status: string; data: T; error?: string };
  if (body.status !== "success") throw new Error(`prometheus ${url}: ${body.error ?? res.status}`);
  return body.data;
}

async function waitReady(url: string, child: ChildProcess, log: () => string): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`prometheus exited ${child.exitCode}: ${log()}`);
    const ok = await fetch(`${url}/-/ready`, { signal: AbortSignal.timeout(1000) })
      .then((r) => r.ok)
      .catch(() => false);
    if (ok) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`prometheus not ready in 30 s: ${log()}`);
}

export async function startPrometheus(
  jobs: readonly ScrapeJob[],
  ruleFiles: readonly string[],
): Promise<RunningPrometheus> {
  requireBinary(PROMETHEUS_BIN);
  const dir = mkdtempSync(join(tmpdir(), "meridian-prom-"));
  const config = join(dir, "prometheus.yml");
  writeFileSync(config, configYaml(jobs, ruleFiles));
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const child = spawn(
    PROMETHEUS_BIN,
    [
      `--config.file=${config}`,
      `--storage.tsdb.path=${join(dir, "data")}`,
      `--web.listen-address=127.0.0.1:${port}`,
      "--storage.tsdb.retention.time=1h",
    ],
    { stdio: ["ignore", "ignore", "pipe"] },
  );
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  let stderr = "";
  child.stderr!.on("data", (d: Buffer) => {
    stderr = (stderr + d.toString()).slice(-4000);
  });
  const stop = async () => {
    await terminate(child, exited);
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await waitReady(url, child, () => stderr);
  } catch (e) {
    await stop();
    throw e;
  }
  return {
    url,
    query: (q) =>
      getJson(`${url}/api/v1/query?query=${encodeURIComponent(q)}`).then(
        (d) => (d as { result: never }).result,
      ),
    alerts: () => getJson<{ alerts: PrometheusAlert[] }>(`${url}/api/v1/alerts`).then((d) => d.alerts),
    metricNames: () => getJson<string[]>(`${url}/api/v1/label/__name__/values`),
    stop,
  };
}

/** Polls `probe` every 250 ms until it returns true; throws with `describe()` after timeoutMs. */
export async function eventually(
  what: string,
  probe: () => Promise<boolean>,
  timeoutMs: number,
  describe: () => Promise<string> = async () => "",
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await probe())) {
    if (Date.now() > deadline) throw new Error(`${what}: not reached in ${timeoutMs} ms ${await describe()}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}
