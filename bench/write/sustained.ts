// Sustained writes on five regions: N writes/s offered open loop for 60 s (--quick: 10 s) into the
// in-process region nodes (LWW sets and PN-counter increments from every region; the nodes' own code
// path below HTTP, so the offered rate is not capped by HTTP parsing on this machine), the default WAN
// matrix on the replicator. Measured DURING the load: convergence per region pair (write at the origin
// → merged in the destination's Redis), the invalidation consumers' Kafka lag, the process RSS (the
// whole cluster runs in it). The physical limit per pair is the matrix's one-way delay. Goal:
// convergence p99 < 1 s while the cluster sustains ≥ 20 k writes/s. Two rates, each on a fresh cluster:
// one this 2-core machine keeps up with (convergence measured without a backlog) and the goal's.
// Run alone: pnpm tsx bench/write/sustained.ts [--quick]; `pnpm bench write` runs it after the write table.
import os from "node:os";
import { createKafka } from "@meridian/bus";
import {
  directTarget,
  kafkaConsumerLag,
  PairConvergence,
  type PairRow,
  parseMix,
  runLoad,
  startClusterRetrying,
  Workload,
} from "@meridian/cli";
import type { Cluster } from "@meridian/cluster";
import { configFromEnv } from "@meridian/core";
import { defaultLatencyMatrix } from "@meridian/wan";
import { Redis } from "ioredis";
import pino from "pino";
import {
  type Cell,
  fmt,
  machineLine,
  markdownTable,
  median,
  QUICK,
  quantile,
  writeBenchmarksSection,
} from "../lib/report.js";
import { redisCpuSeconds } from "./harness.js";

const GOAL_RATE = 20_000;
/** Offered rates, comma-separated in MERIDIAN_BENCH_SUSTAINED_RATES; the pair table is the first's. */
const RATES = (process.env.MERIDIAN_BENCH_SUSTAINED_RATES ?? `2000,${GOAL_RATE}`).split(",").map(Number);
const SECONDS = QUICK ? 10 : 60;
const GOAL_P99_MS = 1000;

interface Samples {
  lag: number[];
  rssMiB: number[];
}

/** Every second: the summed consumer lag (messages) of all regions and the RSS of this process. */
function sampleEverySecond(
  cluster: Cluster,
  admin: Parameters<typeof kafkaConsumerLag>[0],
): {
  samples: Samples;
  stop(): void;
} {
  const samples: Samples = { lag: [], rssMiB: [] };
  const lag = kafkaConsumerLag(admin, cluster);
  let busy = false;
  const timer = setInterval(() => {
    samples.rssMiB.push(process.memoryUsage().rss / 2 ** 20);
    if (busy) return;
    busy = true;
    lag
      .lag()
      .then((rows) => samples.lag.push(rows.reduce((s, r) => s + r.lag, 0)))
      .catch(() => undefined)
      .finally(() => {
        busy = false;
      });
  }, 1000);
  return { samples, stop: () => clearInterval(timer) };
}

/** Cores this process (the whole cluster and the load) and the Redis server used between start and stop. */
async function cpuMeter(): Promise<{ stop(): Promise<{ node: number; redis: number }> }> {
  const redis = new Redis(configFromEnv().redisUrl, { maxRetriesPerRequest: 2 });
  const [t0, node0, redis0] = [performance.now(), process.cpuUsage(), await redisCpuSeconds(redis)];
  return {
    async stop() {
      const seconds = (performance.now() - t0) / 1000;
      const node = process.cpuUsage(node0);
      const redisSeconds = (await redisCpuSeconds(redis)) - redis0;
      redis.disconnect();
      return { node: (node.user + node.system) / 1e6 / seconds, redis: redisSeconds / seconds };
    },
  };
}

async function measure(cluster: Cluster, rate: number) {
  const regions = cluster.layout.regions;
  const kafka = createKafka(configFromEnv(), `bench-sustained-${cluster.namespace}`);
  const admin = kafka.admin();
  await admin.connect();
  const sampler = sampleEverySecond(cluster, admin);
  const pairs = new PairConvergence(cluster.events, regions).start();
  const cpu = await cpuMeter();
  const result = await runLoad({
    target: directTarget(Object.fromEntries(regions.map((r) => [r, cluster.nodes[r]!.node]))),
    workload: new Workload({
      regions,
      mix: parseMix("important:set=70,important:incr=30"),
      tag: "sus",
      keys: 10_000,
      counters: 64,
      hotCounters: 4,
    }),
    ratePerSecond: rate,
    durationMs: SECONDS * 1000,
    maxInFlight: 4096,
    drainMs: 5000,
    onSecond: (s) =>
      console.log(
        `  t=${s.second}s offered ${s.offered}/s achieved ${s.achieved}/s errors ${s.errors} p99 ${fmt(s.latency.p99Ms)} ms backlog ${s.backlog}`,
      ),
  });
  const cores = await cpu.stop();
  sampler.stop();
  let convergedAfterMs = Number.NaN;
  const keys = [...result.writtenKeys].slice(0, 2000);
  try {
    convergedAfterMs = await cluster.waitForConvergence(keys, 30_000);
  } catch (err) {
    console.log(`not converged 30 s after the load: ${(err as Error).message}`);
  }
  pairs.stop();
  await admin.disconnect();
  return {
    result,
    rows: pairs.rows(),
    overall: pairs.overall(),
    samples: sampler.samples,
    convergedAfterMs,
    cores,
  };
}

function pairTable(rows: readonly PairRow[], floors: ReturnType<typeof defaultLatencyMatrix>): string {
  return markdownTable(
    [
      "written in → merged in",
      "merges",
      "p50 (ms)",
      "p99 (ms)",
      "max (ms)",
      "floor: one-way WAN (ms)",
      "p99 ÷ floor",
    ],
    rows.map((r) => {
      const floor = floors[r.origin]?.[r.region] ?? Number.NaN;
      return [
        `${r.origin} → ${r.region}`,
        r.count,
        r.p50Ms,
        r.p99Ms,
        r.maxMs,
        floor,
        r.count ? (r.p99Ms / floor).toFixed(1) : "—",
      ];
    }),
  );
}

function goalLine(run: Run): string {
  const { result, rate: offered, cores } = run;
  const p99 = run.overall.p99Ms;
  const achieved = result.achieved / (result.elapsedMs / 1000);
  const rateMet = achieved >= GOAL_RATE;
  const p99Met = p99 < GOAL_P99_MS;
  const met = rateMet && p99Met;
  const busy = `during the load this process (all five regions, their consumers, the replicator and the load generator) used ${fmt(cores.node)} cores and the Redis server ${fmt(cores.redis)} cores of this machine's ${os.cpus().length}`;
  const reasons = [
    rateMet ? "" : `the cluster acknowledged ${fmt(achieved)} writes/s of the ${fmt(offered)} offered`,
    p99Met
      ? ""
      : `convergence p99 under the load was ${fmt(p99)} ms (writes queue behind the busy process; see consumer lag)`,
  ].filter(Boolean);
  return `- Convergence p99 < ${fmt(GOAL_P99_MS)} ms while sustaining ≥ ${fmt(GOAL_RATE)} writes/s: ${met ? "met" : "NOT met"} — ${fmt(achieved)} writes/s acknowledged, p99 ${fmt(p99)} ms.${reasons.length ? ` Reason: ${reasons.join("; ")}; ${busy}.` : ""}`;
}

type Run = Awaited<ReturnType<typeof measure>> & {
  rate: number;
  floors: ReturnType<typeof defaultLatencyMatrix>;
};

/** One rate on a fresh cluster, so a backlog left by one rate does not leak into the next. */
async function runAt(rate: number): Promise<Run> {
  console.log(`\nsustained: ${fmt(rate)} writes/s offered for ${SECONDS} s on five regions`);
  const cluster = await startClusterRetrying({
    namespace: `bench-sus-${Date.now().toString(36)}`,
    marketData: false,
    critical: false,
    cacheableCoherence: false,
    logger: pino({ level: "error" }),
  });
  try {
    return { ...(await measure(cluster, rate)), rate, floors: defaultLatencyMatrix(cluster.layout.regions) };
  } finally {
    await cluster.stop();
    await cluster.purge().catch(() => undefined);
  }
}

function summaryRow(m: Run): Cell[] {
  const seconds = m.result.elapsedMs / 1000;
  return [
    m.rate,
    m.result.achieved / seconds,
    `${fmt(m.result.errors)} / ${fmt(m.result.unsent)}`,
    m.result.latency.p50Ms,
    m.result.latency.p99Ms,
    m.overall.p50Ms,
    m.overall.p99Ms,
    m.overall.maxMs,
    m.convergedAfterMs,
    `${fmt(median(m.samples.lag))} / ${fmt(quantile(m.samples.lag, 1))}`,
    `${fmt(median(m.samples.rssMiB))} / ${fmt(quantile(m.samples.rssMiB, 1))}`,
    `${fmt(m.cores.node)} / ${fmt(m.cores.redis)}`,
  ];
}

const SUMMARY_HEADERS = [
  "offered (writes/s)",
  "acknowledged (writes/s)",
  "errors / never sent (open loop, over the in-flight bound)",
  "write p50 (ms, from intended send)",
  "write p99 (ms)",
  "convergence p50 (ms)",
  "convergence p99 (ms)",
  "convergence max (ms)",
  "converged after the load (ms)",
  "consumer lag median / max (msgs)",
  "RSS median / max (MiB)",
  "cores used: this process / Redis",
];

export async function runSustainedBench(): Promise<void> {
  const loadAtStart = os.loadavg()[0]!.toFixed(1);
  const machine = machineLine();
  const runs: Run[] = [];
  for (const rate of RATES) runs.push(await runAt(rate));
  const summary = markdownTable(SUMMARY_HEADERS, runs.map(summaryRow));
  const first = runs[0]!;
  const pairsTable = pairTable(first.rows, first.floors);
  const atGoal = runs.find((r) => r.rate >= GOAL_RATE) ?? runs[runs.length - 1]!;
  const goal = goalLine(atGoal);
  console.log(`\n${summary}\n\n${pairsTable}\n\n${goal}`);
  writeBenchmarksSection(
    "write-sustained",
    [
      "## write — sustained load on five regions, convergence during the load",
      "",
      `${machine} · load ${loadAtStart}→${os.loadavg()[0]!.toFixed(1)} · \`pnpm bench write\` (${RATES.map(fmt).join(" and ")} writes/s offered open loop for ${SECONDS} s each, on a fresh cluster each: 70 % LWW sets over 10 k keys, 30 % PN-counter increments, half of them on 4 hot keys, round-robin over the regions, into the nodes in-process; default WAN matrix on the replicator)`,
      "",
      summary,
      "",
      `Convergence per region pair while ${fmt(first.rate)} writes/s ran (write at the origin → merged in the destination), with the physical floor — the simulated one-way WAN delay of the pair. No peer replicates across five regions on this machine, so the floor is the comparison.`,
      "",
      pairsTable,
      "",
      goal,
    ].join("\n"),
  );
}

if (process.argv[1] && /sustained\.(ts|js)$/.test(process.argv[1])) {
  runSustainedBench().then(
    () => process.exit(0),
    (err) => {
      console.error(err);
      process.exit(1);
    },
  );
}
