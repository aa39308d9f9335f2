// bench/geo: what geography costs with the WAN layer on (five regions, the realistic latency matrix).
//   1. critical GET / PUT per (client region, home region) through the client region's node (forwarded
//      when the home is elsewhere), p50 / p99, beside the physical floor: the configured round trip and a
//      bare Redis PING across the same link;
//   2. eventual (important) GET / PUT in each region (local by design);
//   3. eventual convergence per region pair (write in A → merged in B), beside the one-way delay.
// Run: pnpm bench geo  (quick: pnpm bench --quick geo). Env: BENCH_SAMPLES (critical samples per pair).
import { randomUUID } from "node:crypto";
import os from "node:os";
import { monitorEventLoopDelay } from "node:perf_hooks";
import { type Cluster, measureCriticalLatencyMap, startCluster } from "@meridian/cluster";
import { configFromEnv } from "@meridian/core";
import { measurePairs, type PairSamples } from "@meridian/wan";
import pino from "pino";
import {
  type Cell,
  fmt,
  machineLine,
  markdownTable,
  QUICK,
  quantile,
  writeBenchmarksSection,
} from "../lib/report.js";

const SAMPLES = Number(process.env.BENCH_SAMPLES ?? (QUICK ? 3 : 20));
const EVENTUAL_SAMPLES = QUICK ? 4 : 30;
const p50 = (xs: readonly number[]) => quantile(xs, 0.5);
const p99 = (xs: readonly number[]) => quantile(xs, 0.99);

async function timedFetch(url: string, init?: RequestInit): Promise<number> {
  const startedAt = performance.now();
  const res = await fetch(url, { ...init, signal: AbortSignal.timeout(10_000) });
  await res.body?.cancel();
  if (!res.ok) throw new Error(`${init?.method ?? "GET"} ${url}: HTTP ${res.status}`);
  return performance.now() - startedAt;
}

/** Bare Redis PING from each region to each region's Redis (across the WAN link when they differ). */
async function pingMap(cluster: Cluster): Promise<Map<string, number[]>> {
  const regions = cluster.layout.regions;
  const clients = new Map(
    regions.flatMap((a) => regions.map((b) => [`${a}→${b}`, cluster.wan!.redisFrom(a, b)])),
  );
  await Promise.all([...clients.values()].map((r) => r.ping()));
  const rows = await measurePairs({
    regions,
    ops: ["ping"],
    samples: SAMPLES,
    oneWayMs: (a, b) => cluster.wan!.latency[a]?.[b] ?? 0,
    run: async (_op, a, b) => void (await clients.get(`${a}→${b}`)!.ping()),
  });
  return new Map(rows.map((r) => [`${r.client}→${r.home}`, r.samplesMs]));
}

interface EventualSamples {
  get: number[];
  set: number[];
  errors: number;
  /** Why the first failed operation failed: printed under the table. */
  firstError?: string;
}

/** Eventual PUT then GET of region-local keys: one client per region, one operation at a time. */
async function eventualOps(cluster: Cluster, tag: string): Promise<Map<string, EventualSamples>> {
  const regions = cluster.layout.regions;
  const out = new Map(regions.map((r): [string, EventualSamples] => [r, { get: [], set: [], errors: 0 }]));
  const oneClient = async (region: string): Promise<void> => {
    for (let i = 0; i < EVENTUAL_SAMPLES; i++) {
      const url = `${cluster.regions[region]!.url}/v1/important/${encodeURIComponent(`md:${tag}-${region}-${i % 5}`)}`;
      const m = out.get(region)!;
      const body = JSON.stringify({ value: i });
      try {
        m.set.push(
          await timedFetch(url, {
            method: "PUT",
            headers: { "content-type": "application/json", ...cluster.authHeaders },
            body,
          }),
        );
        m.get.push(await timedFetch(url, { headers: cluster.authHeaders }));
      } catch (e) {
        m.errors++; // counted and shown: a refused write (e.g. a publish timeout) is a figure too
        m.firstError ??= e instanceof Error ? e.message : String(e);
      }
    }
  };
  await Promise.all(regions.map(oneClient));
  return out;
}

function criticalMatrix(rows: PairSamples[], op: string, regions: readonly string[]): string {
  const cell = (client: string, home: string): Cell => {
    const r = rows.find((x) => x.op === op && x.client === client && x.home === home)!;
    const failed = r.errors ? `, ${r.errors} failed` : "";
    return `${fmt(p50(r.samplesMs))} / ${fmt(p99(r.samplesMs))} (${r.floorMs}${failed})`;
  };
  return markdownTable(
    ["client \\ home", ...regions],
    regions.map((c) => [c, ...regions.map((h) => cell(c, h))]),
  );
}

async function main(): Promise<void> {
  const t0 = Date.now();
  const namespace = `bench-geo-${randomUUID().slice(0, 8)}`;
  const cluster = await startCluster({
    namespace,
    config: configFromEnv(),
    logger: pino({ level: "silent" }),
    marketData: false,
    antiEntropy: false,
    wan: true,
  });
  const regions = cluster.layout.regions;
  const convergence = new Map<string, number[]>();
  cluster.events.on("applied", (e) => {
    const pair = `${e.originRegion}→${e.region}`;
    convergence.set(pair, [...(convergence.get(pair) ?? []), e.lagMs]);
  });
  try {
    const pings = await pingMap(cluster);
    const critical = await measureCriticalLatencyMap(cluster, { samples: SAMPLES, tag: namespace });
    const loopDelay = monitorEventLoopDelay({ resolution: 1 });
    loopDelay.enable();
    const eventual = await eventualOps(cluster, namespace);
    loopDelay.disable();
    const loopMs = (q: number) => loopDelay.percentile(q) / 1e6;
    await cluster.replicator.drain(10_000);
    await new Promise((r) => setTimeout(r, 500));
    const latency = cluster.wan!.latency;
    const local = critical.filter((r) => r.client === r.home);
    const remote = critical.filter((r) => r.client !== r.home);
    const pool = (rs: PairSamples[], op: string) => rs.filter((r) => r.op === op).flatMap((r) => r.samplesMs);
    const summary = markdownTable(
      [
        "critical op",
        "at home p50",
        "at home p99",
        "elsewhere p50",
        "elsewhere p99",
        "elsewhere floor (median RTT)",
      ],
      ["get", "set"].map((op) => [
        op,
        p50(pool(local, op)),
        p99(pool(local, op)),
        p50(pool(remote, op)),
        p99(pool(remote, op)),
        p50(remote.filter((r) => r.op === op).map((r) => r.floorMs)),
      ]),
    );
    const physical = markdownTable(
      ["client \\ server", ...regions],
      regions.map((a) => [
        a,
        ...regions.map(
          (b) => `${fmt(p50(pings.get(`${a}→${b}`)!))} (${a === b ? 0 : latency[a]![b]! + latency[b]![a]!})`,
        ),
      ]),
    );
    const eventualTable = markdownTable(
      ["region", "eventual set p50", "set p99", "eventual get p50", "get p99", "failed"],
      regions.map((r) => {
        const m = eventual.get(r)!;
        return [r, p50(m.set), p99(m.set), p50(m.get), p99(m.get), m.errors];
      }),
    );
    const failures = regions
      .filter((r) => eventual.get(r)!.firstError)
      .map((r) => `- ${r}, first failure: ${eventual.get(r)!.firstError}`)
      .join("\n");
    const convRows = regions.flatMap((a) =>
      regions
        .filter((b) => b !== a)
        .map((b) => {
          const xs = convergence.get(`${a}→${b}`) ?? [];
          return [`${a}→${b}`, xs.length, p50(xs), p99(xs), latency[a]![b]!] as Cell[];
        }),
    );
    const convTable = markdownTable(
      ["write → merged", "updates", "p50 ms", "p99 ms", "one-way floor ms"],
      convRows,
    );
    const homeP50 = p50(pool(local, "get"));
    const eventualGetP50 = p50([...eventual.values()].flatMap((m) => m.get));
    const localPingP50 = p50(regions.flatMap((r) => pings.get(`${r}→${r}`)!));
    const target =
      homeP50 < 10
        ? `Target: critical reads at home < 10 ms — met (p50 ${fmt(homeP50)} ms).`
        : `Target: critical reads at home < 10 ms — **NOT met** in this run (p50 ${fmt(homeP50)} ms), with the load average at ${os.loadavg()[0]!.toFixed(1)} on ${os.cpus().length} cores. A home read crosses no link (a bare Redis PING in the region: p50 ${fmt(localPingP50)} ms); its cost here is the region node's HTTP path under that load — an eventual GET, one HTTP request and one local Redis read, took p50 ${fmt(eventualGetP50)} ms in the same run. Cross-region figures carry that same cost on top of the round trip.`;
    const md = `### geo — latency per (client region, home region) with the WAN layer on

${machineLine()} · load average ${os.loadavg()[0]!.toFixed(1)} at the end${QUICK ? " · quick run" : ""} · ${SAMPLES} critical samples per pair and op, ${EVENTUAL_SAMPLES} eventual per region · \`pnpm bench geo\` (${Math.round((Date.now() - t0) / 1000)} s)

Every cross-region hop crosses a TCP proxy with the replicator's latency matrix (one way 32–110 ms). Critical
keys have a home region; a request elsewhere is forwarded there (HTTP in, one RPC across the WAN). Figures in
ms, measured through the region nodes' HTTP API. No peer product is measured here: the reference is the
physical floor — the configured round trip, and a bare Redis PING across the same link.

Summary (all pairs pooled):

${summary}

${target}

Critical GET, p50 / p99 (floor = configured RTT):

${criticalMatrix(critical, "get", regions)}

Critical PUT, p50 / p99 (floor):

${criticalMatrix(critical, "set", regions)}

Physical floor: bare Redis PING across each link, p50 (configured RTT):

${physical}

Eventual (important) data, served in the writer's region:

${eventualTable}

These go through the region nodes' HTTP API, with one client per region at once. The whole cluster — five
region nodes, the replicator and five invalidation consumers — runs in this one Node process, beside the
broker and Redis on the same ${os.cpus().length} cores, so every write's fan-out (its Kafka records, the replicator's
forwards, four remote merges) runs on the event loop these requests wait for: event-loop delay during
these operations p50 ${fmt(loopMs(50))} ms, p99 ${fmt(loopMs(99))} ms. One region node's own write path is measured
alone in the write table (\`pnpm bench write\`, one write in flight).
${failures ? `\n${failures}\n` : ""}
Eventual convergence per region pair (replicator + consumer), beside the one-way delay:

${convTable}
`;
    console.log(md);
    writeBenchmarksSection("geo", md);
  } finally {
    await cluster.stop();
    await cluster.purge();
  }
}

await main();
