// bench/strong: latency (p50/p99, sequential) and throughput (16 concurrent callers) of the strong tier's
// get, set and lock acquire+release, next to a bare ioredis GET/SET and npm redlock, all in the same run.
// Each figure is the median over ROUNDS rounds. Run: pnpm tsx bench/strong/index.ts
// Env: BENCH_ROUNDS (5), BENCH_SAMPLES (500 sequential ops per round), BENCH_OPS (2000 concurrent ops per round);
// under `pnpm bench --quick` 2 rounds of 100 and 400.
import { randomUUID } from "node:crypto";
import os from "node:os";
import { configFromEnv, REGIONS } from "@meridian/core";
import { LockManager, pgFenceEpochs } from "@meridian/locks";
import { connectRegionRedis, StrongConsistencyCache } from "@meridian/strong";
import { Redis } from "ioredis";
import Redlock from "redlock";
import { createPrivateSchema } from "../lib/pg-schema.js";
import { machineLine, QUICK, writeBenchmarksSection } from "../lib/report.js";
import { groupCommitBench } from "./group-commit.js";

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? (QUICK ? 2 : 5));
const SAMPLES = Number(process.env.BENCH_SAMPLES ?? (QUICK ? 100 : 500));
const OPS = Number(process.env.BENCH_OPS ?? (QUICK ? 400 : 2000));
const CONCURRENCY = 16;
const KEYS = 100;

type Op = (i: number, worker: number) => Promise<unknown>;
interface Case {
  name: string;
  op: Op;
  /** untimed preparation before each sequential sample */
  before?: (i: number) => Promise<unknown>;
}

const cfg = configFromEnv();
const run = randomUUID().slice(0, 8);
const prefix = `bench:strong:${run}:`;
const schema = await createPrivateSchema(cfg.pgUrl, `bench_strong_${run}`, CONCURRENCY + 4);
const pool = schema.pool;
const regions = connectRegionRedis(cfg.redisUrl);
const bare = new Redis(cfg.redisUrl, { db: 15 });
const lockRedis = new Redis(cfg.redisUrl, { db: 15 });
const redlockRedis = new Redis(cfg.redisUrl, { db: 15 });
const locks = new LockManager(lockRedis, {
  prefix: `${prefix}lock:`,
  watchdog: false,
  detectDeadlocks: false,
  fenceEpochs: pgFenceEpochs(pool), // durable fencing, as the strong tier's default lock manager
});
const redlock = new Redlock([redlockRedis], { retryCount: 0 });
const cache = new StrongConsistencyCache(regions["us-east"], pool, {
  region: "us-east",
  peers: regions,
  keyPrefix: prefix,
  locks,
});

async function main() {
  await cache.init();
  for (let k = 0; k < KEYS; k++) {
    await cache.setWithStrongConsistency(`k${k}`, { balance: k, currency: "USD" });
    await bare.set(`${prefix}bare:k${k}`, JSON.stringify({ balance: k, currency: "USD" }));
  }
  const cases: Case[] = [
    { name: "ioredis GET (bare)", op: (i) => bare.get(`${prefix}bare:k${i % KEYS}`) },
    {
      name: "ioredis SET (bare)",
      op: (i) => bare.set(`${prefix}bare:k${i % KEYS}`, JSON.stringify({ balance: i })),
    },
    { name: "strong get (cache hit)", op: (i) => cache.getWithStrongConsistency(`k${i % KEYS}`) },
    {
      name: "strong get (miss: lease+PG+fill)",
      before: (i) => regions["us-east"].del(`${prefix}e:k${i % KEYS}`),
      op: (i) => cache.getWithStrongConsistency(`k${i % KEYS}`),
    },
    {
      name: "strong set (PG + 5 regions)",
      op: (i, w) => cache.setWithStrongConsistency(`k${(i * 7 + w) % KEYS}`, { balance: i }),
    },
    {
      name: "meridian lock acquire+release",
      op: async (i, w) => {
        const h = await locks.acquire(`r${w}:${i % KEYS}`, { ttlMs: 10_000, waitMs: 0 });
        await h.release();
      },
    },
    {
      name: "redlock acquire+release",
      op: async (i, w) => {
        const l = await redlock.acquire([`${prefix}redlock:r${w}:${i % KEYS}`], 10_000);
        await l.release();
      },
    },
  ];

  const results = new Map<string, { p50: number[]; p99: number[]; tput: number[] }>();
  for (const c of cases) results.set(c.name, { p50: [], p99: [], tput: [] });
  for (let round = 0; round < ROUNDS; round++) {
    for (const c of cases) {
      // warm-up (script cache, connections, JIT)
      for (let i = 0; i < 50; i++) {
        if (c.before) await c.before(i);
        await c.op(i, 0);
      }
      const lat: number[] = [];
      for (let i = 0; i < SAMPLES; i++) {
        if (c.before) await c.before(i);
        const t = performance.now();
        await c.op(i, 0);
        lat.push(performance.now() - t);
      }
      lat.sort((a, b) => a - b);
      const r = results.get(c.name)!;
      r.p50.push(quantile(lat, 0.5));
      r.p99.push(quantile(lat, 0.99));
      if (!c.before) {
        let next = 0;
        const t = performance.now();
        await Promise.all(
          Array.from({ length: CONCURRENCY }, async (_, w) => {
            while (next < OPS) await c.op(next++, w + 1);
          }),
        );
        r.tput.push(OPS / ((performance.now() - t) / 1000));
      }
    }
    process.stderr.write(`round ${round + 1}/${ROUNDS} done\n`);
  }

  const cpus = os.cpus();
  console.log(
    `machine: ${cpus[0]?.model ?? "?"} x${cpus.length}, ${(os.totalmem() / 2 ** 30).toFixed(1)} GiB, ${os.platform()} ${os.release()}, node ${process.version}`,
  );
  console.log(
    `servers: Redis ${cfg.redisUrl} (regions = DBs 10..14, bare/locks DB 15), PostgreSQL ${cfg.pgUrl.replace(/:[^:@/]*@/, "@")}`,
  );
  console.log(
    `median of ${ROUNDS} rounds; latency: ${SAMPLES} sequential ops per round; throughput: ${OPS} ops from ${CONCURRENCY} concurrent callers\n`,
  );
  const row = (cols: string[]) =>
    console.log(cols.map((c, i) => (i === 0 ? c.padEnd(34) : c.padStart(12))).join(""));
  row(["operation", "p50 ms", "p99 ms", "ops/s"]);
  const med = new Map<string, { p50: number; p99: number; tput: number }>();
  for (const c of cases) {
    const r = results.get(c.name)!;
    const m = { p50: median(r.p50), p99: median(r.p99), tput: r.tput.length ? median(r.tput) : Number.NaN };
    med.set(c.name, m);
    row([c.name, m.p50.toFixed(3), m.p99.toFixed(3), Number.isNaN(m.tput) ? "-" : m.tput.toFixed(0)]);
  }
  const ratio = (a: string, b: string) => {
    const x = med.get(a)!;
    const y = med.get(b)!;
    return `${a} / ${b}: p50 x${(x.p50 / y.p50).toFixed(2)}, p99 x${(x.p99 / y.p99).toFixed(2)}, throughput x${(x.tput / y.tput).toFixed(2)}`;
  };
  console.log("\nratios");
  console.log(`  ${ratio("strong get (cache hit)", "ioredis GET (bare)")}`);
  console.log(`  ${ratio("strong set (PG + 5 regions)", "ioredis SET (bare)")}`);
  console.log(`  ${ratio("meridian lock acquire+release", "redlock acquire+release")}`);
  const hit = med.get("strong get (cache hit)")!;
  const set = med.get("strong set (PG + 5 regions)")!;
  const lock = med.get("meridian lock acquire+release")!;
  console.log(
    `\nseed targets: strong ops < 10 ms (get p50 ${hit.p50.toFixed(2)} ms, set p50 ${set.p50.toFixed(2)} ms, set p99 ${set.p99.toFixed(2)} ms); ` +
      `lock acquisition < 2 ms (acquire+release p50 ${lock.p50.toFixed(2)} ms, p99 ${lock.p99.toFixed(2)} ms)`,
  );
}

function quantile(sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

try {
  await main();
  const md = await groupCommitBench({ pool, regions, prefix: `${prefix}g:`, locks }, QUICK ? 1 : 3);
  console.log(`\n${md}`);
  writeBenchmarksSection("strong-group", `## Strong writes: group commit\n\n${machineLine()}\n\n${md}`);
} finally {
  for (const r of REGIONS) {
    const keys = await regions[r].keys(`${prefix}*`);
    if (keys.length) await regions[r].del(...keys);
    regions[r].disconnect();
  }
  const keys = await bare.keys(`${prefix}*`);
  if (keys.length) await bare.del(...keys);
  for (const c of [bare, lockRedis, redlockRedis]) c.disconnect();
  await schema.drop();
}
