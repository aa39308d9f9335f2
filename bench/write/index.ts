// Write benchmark, one run on the same Redis and broker, per node:
// - Meridian eventual writes end to end (merged in Redis AND acked by Kafka, coalesced and batched): LWW
//   `set` of 10 k keys uniform and increments of one hot PN-counter key, at 1, 64 and 256 in flight, and
//   the uncoalesced path at 64 for reference;
// - the limits: Kafka's own ProducerPerformance (same record size, acks=all), a bare kafkajs producer
//   (arrays of 500, with and without GZIP), redis-benchmark of the counter merge script pipelined, INCRBY;
// - the peer: BentoCache `set` (memory L1 + Redis L2 + Redis bus; an overwrite, not a merge, no Kafka).
// Run: pnpm bench write [--quick]
import { randomUUID } from "node:crypto";
import os from "node:os";
import { createKafka, ensureTopics } from "@meridian/bus";
import { configFromEnv } from "@meridian/core";
import { deleteKeysWithPrefix } from "@meridian/store";
import { Redis } from "ioredis";
import { fmt, machineLine, markdownTable, QUICK, quantile, writeBenchmarksSection } from "../lib/report.js";
import type { RedisBenchRow } from "../locks/harness.js";
import { opsPerS, type Row } from "./harness.js";
import { bareKafkajs, kafkaPerfTool, type PerfToolRow } from "./kafka-limits.js";
import { hotCounter, meridianNode, recordSize, uniformSet } from "./meridian.js";
import { bentoCases } from "./peer.js";
import { redisLimits } from "./redis-limits.js";
import { runSustainedBench } from "./sustained.js";

const PER_NODE_GOAL = 100_000;
const HOT_GOAL = 50_000;
const CASE_MS = QUICK ? 600 : 3_000;
const PERF_RECORDS = QUICK ? 20_000 : 500_000;

const cfg = configFromEnv();
const run = randomUUID().slice(0, 8);
const prefix = `bench:write:${run}:`;
const topic = `bench-write-${run}`;
const clients: Redis[] = [];
const client = () => {
  const c = new Redis(cfg.redisUrl, { maxRetriesPerRequest: 2 });
  c.on("error", () => {});
  clients.push(c);
  return c;
};

async function meridianRows(kafka: ReturnType<typeof createKafka>) {
  const node = await meridianNode(cfg, kafka, client(), topic, prefix);
  const rows: Row[] = [];
  try {
    for (const n of [1, 64, 256]) rows.push(await uniformSet(node, n, CASE_MS));
    rows.push(await uniformSet(node, 64, CASE_MS, false));
    for (const n of [1, 64, 256]) rows.push(await hotCounter(node, n, CASE_MS));
    rows.push(await hotCounter(node, 64, CASE_MS, false));
    return { rows, size: await recordSize(node.serde) };
  } finally {
    await node.close();
  }
}

interface Limits {
  perf: PerfToolRow | null;
  bare: Row[];
  script: RedisBenchRow | undefined;
}

/** The measured CPU cost of one write in the given row, and the rate one core could give at that cost. */
function cpuPerWrite(r: Row | undefined): string {
  if (!r?.cpuUs || r.ops === 0) return "";
  const nodeUs = r.cpuUs / r.ops;
  const redisUs = r.redisCpuUs !== undefined ? r.redisCpuUs / r.ops : Number.NaN;
  const redis = Number.isFinite(redisUs) ? ` and ${fmt(redisUs)} µs of Redis CPU` : "";
  return `Measured in that row: ${fmt(nodeUs)} µs of Node CPU${redis} per write, so one core gives Node at most ~${fmt(1e6 / nodeUs)} writes/s.`;
}

function goals(rows: Row[], limits: Limits): string[] {
  const best = (pick: (r: Row) => boolean) =>
    rows.filter(pick).reduce<Row | undefined>((a, b) => (a && opsPerS(a) >= opsPerS(b) ? a : b), undefined);
  const uniform = best((r) => r.name.includes("uniform") && !r.name.includes("uncoalesced"));
  const hot = best((r) => r.name.includes("hot") && !r.name.includes("uncoalesced"));
  const { perf } = limits;
  const goal = Math.min(PER_NODE_GOAL, perf ? 0.8 * perf.rps : Number.POSITIVE_INFINITY);
  const which =
    goal < PER_NODE_GOAL
      ? `0.8× the Kafka perf tool's ${fmt(perf!.rps)}/s, lower than ${fmt(PER_NODE_GOAL)}/s on this machine`
      : `${fmt(PER_NODE_GOAL)}/s`;
  const bareBest = Math.max(0, ...limits.bare.map(opsPerS));
  const line = (label: string, r: Row | undefined, target: number, reason: string) => {
    const v = r ? opsPerS(r) : 0;
    const met = v >= target;
    const head = `- ${label} ≥ ${fmt(target)}/s: ${met ? "met" : "NOT met"}`;
    return `${head} — best ${fmt(v)}/s (${r?.inFlight ?? "—"} in flight)${met ? "" : `. Reason: ${reason}`}`;
  };
  return [
    line(
      `Eventual set per node (goal: ${which})`,
      uniform,
      goal,
      `at 10 k uniform keys few writes share a key, so coalescing saves little: a batch's LWW sets are one script call (merged in Redis, no snapshot read), but every write is still its own CRDT state, JSON text, Avro record and Kafka record. ${cpuPerWrite(uniform)} The limits in this run: Kafka perf tool ${fmt(perf?.rps)}/s, bare kafkajs ${fmt(bareBest)}/s, the merge script pipelined ${fmt(limits.script?.rps)}/s; Node, Redis and the broker share 2 cores.`,
    ),
    line(
      "Hot PN-counter key",
      hot,
      HOT_GOAL,
      "a batch of increments costs one Lua call and one record, so the rate is in-flight writers ÷ (batch round trip: Redis + Kafka acks=all); 256 writers at the measured p50 bound it.",
    ),
  ];
}

async function main() {
  const loadAtStart = os.loadavg()[0]!.toFixed(1);
  const machine = machineLine();
  console.log(machine);
  const kafka = createKafka(cfg, `bench-write-${run}`);
  await ensureTopics(kafka, [topic, `${topic}-limit`]);
  const { rows, size } = await meridianRows(kafka);
  const bare = [
    await bareKafkajs(kafka, `${topic}-limit`, size, 500, false, CASE_MS),
    await bareKafkajs(kafka, `${topic}-limit`, size, 500, true, CASE_MS),
  ];
  const perf = await kafkaPerfTool(cfg.kafkaBrokers.join(","), `${topic}-limit`, PERF_RECORDS, size, !QUICK);
  const peer = await bentoCases(cfg.redisUrl, `${prefix}bento`, CASE_MS);
  const redis = await redisLimits(client(), cfg.redisUrl, prefix, QUICK ? 20_000 : 200_000);
  const ratio = (v: number) => (perf ? (v / perf.rps).toFixed(2) : "—");
  const rowCells = (r: Row) => [
    r.name,
    r.inFlight,
    opsPerS(r),
    quantile(r.latMs, 0.5),
    quantile(r.latMs, 0.99),
    ratio(opsPerS(r)),
    r.errors,
  ];
  const table = markdownTable(
    ["case (per node)", "in flight", "writes/s", "p50 (ms)", "p99 (ms)", "× Kafka perf tool", "errors"],
    [
      ...rows.map(rowCells),
      ...peer.map(rowCells),
      ...bare.map((r) => [...rowCells(r).slice(0, 3), "—", "—", ratio(opsPerS(r)), r.errors]),
      ...(perf ? [[`${perf.name} (limit)`, "—", perf.rps, perf.p50ms, perf.p99ms, "1.00", 0]] : []),
      ...redis.map((l) => [`${l.name} (server limit)`, 50, l.rps, l.p50ms, l.p99ms, ratio(l.rps), 0]),
    ],
  );
  console.log(`\n${table}`);
  const goalLines = goals(rows, { perf, bare, script: redis[0] });
  console.log(goalLines.join("\n"));
  const load = `${loadAtStart}→${os.loadavg()[0]!.toFixed(1)}`;
  writeBenchmarksSection(
    "write",
    [
      "## write — eventual writes per node",
      "",
      `${machine} · load ${load} · \`pnpm bench write\` (${CASE_MS} ms per case; record ${size} B; Meridian rows are acknowledged after Redis AND Kafka acks=all)`,
      "",
      table,
      "",
      ...goalLines,
    ].join("\n"),
  );
  await deleteKeysWithPrefix(clients[0]!, prefix);
  const admin = kafka.admin();
  await admin.connect();
  await admin.deleteTopics({ topics: [topic, `${topic}-limit`] }).catch(() => {});
  await admin.disconnect();
  await runSustainedBench();
}

main()
  .catch((err) => {
    console.error(err);
    process.exitCode = 1;
  })
  .finally(() => {
    for (const c of clients) c.disconnect();
  });
