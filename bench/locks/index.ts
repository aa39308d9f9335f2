// Lock benchmark, one run on the same Redis: Meridian's LockManager (one script call per operation, then
// with ioredis auto-pipelining, then AcquireBatcher: a turn's attempts in one script call), LockCache (lease delegation: local grants), npm redlock and
// redis-semaphore's Mutex, uncontended and contended on 16 hot locks, and redis-benchmark (SET NX PX and
// EVALSHA of an acquire-sized script, pipelined -P 16/64) as the server's limit.
// Acquisitions and releases both count as lock operations. Run: pnpm tsx bench/locks/index.ts [--quick]
import { randomUUID } from "node:crypto";
import { configFromEnv } from "@meridian/core";
import { AcquireBatcher, LockCache, LockManager } from "@meridian/locks";
import { Redis } from "ioredis";
import { Mutex } from "redis-semaphore";
import Redlock from "redlock";
import { fmt, machineLine, markdownTable, QUICK, quantile, writeBenchmarksSection } from "../lib/report.js";
import { closedLoop, type LockRun, type RedisBenchRow, redisBenchmark } from "./harness.js";

const TARGET_OPS = 1_000_000;
const TARGET_P99_MS = 2;
const WORKERS = 64;
const HOT = 16;
const CASE_MS = QUICK ? 600 : 4_000;
const RB_REQUESTS = QUICK ? 20_000 : 300_000;

const cfg = configFromEnv();
const url = new URL(cfg.redisUrl);
const run = randomUUID().slice(0, 8);
const prefix = `bench:locks:${run}:`;
const clients: Redis[] = [];
const client = (autoPipeline = false) => {
  const c = new Redis(cfg.redisUrl, { enableAutoPipelining: autoPipeline, maxRetriesPerRequest: 2 });
  c.on("error", () => {});
  clients.push(c);
  return c;
};

function manager(name: string, autoPipeline: boolean): LockManager {
  // Watchdog off in the loop (as redlock and the Mutex below: no auto-extension); a lock lives 10 s.
  return new LockManager(client(autoPipeline), {
    prefix: `${prefix}${name}:`,
    ttlMs: 10_000,
    watchdog: false,
  });
}

async function meridianCases(): Promise<LockRun[]> {
  const plain = manager("plain", false);
  const pipelined = manager("pipelined", true);
  const batcher = new AcquireBatcher(manager("batched", true));
  const out: LockRun[] = [];
  type Take = (resource: string, opts: { waitMs: number }) => Promise<{ release(): Promise<void> }>;
  const via = (take: Take, hot: boolean) => async (w: number, i: number) => {
    const h = await take(hot ? `hot${(w + i) % HOT}` : `w${w}`, { waitMs: hot ? 10_000 : 0 });
    return () => h.release();
  };
  const cases: [string, Take, boolean][] = [
    ["Meridian LockManager, uncontended", (r, o) => plain.acquire(r, o), false],
    ["Meridian LockManager + ioredis auto-pipelining, uncontended", (r, o) => pipelined.acquire(r, o), false],
    [
      "Meridian AcquireBatcher (one script call per turn) + auto-pipelining, uncontended",
      (r, o) => batcher.acquire(r, o),
      false,
    ],
    ["Meridian AcquireBatcher + auto-pipelining, 16 hot locks", (r, o) => batcher.acquire(r, o), true],
  ];
  for (const [name, take, hot] of cases) out.push(await closedLoop(name, WORKERS, CASE_MS, via(take, hot)));
  console.log(`batcher: ${batcher.stats.attempts} attempts in ${batcher.stats.calls} script calls`);

  const node = await LockCache.start(manager("cached", true), {
    nodeId: `bench-${run}`,
    idleReleaseMs: 1_000,
  });
  const viaCache = (c: LockCache, hot: boolean) => async (w: number, i: number) => {
    const g = await c.acquire(hot ? `hot${(w + i) % HOT}` : `w${w}`, { waitMs: 10_000 });
    return () => g.release();
  };
  out.push(
    await closedLoop(
      "Meridian LockCache (lease held, local grants), uncontended",
      WORKERS,
      CASE_MS,
      viaCache(node, false),
    ),
  );
  out.push(
    await closedLoop("Meridian LockCache, 16 hot locks, one node", WORKERS, CASE_MS, viaCache(node, true)),
  );
  const other = await LockCache.start(manager("cached", true), {
    nodeId: `bench2-${run}`,
    idleReleaseMs: 1_000,
  });
  out.push(
    await closedLoop("Meridian LockCache, 16 hot locks, two nodes (leases move)", WORKERS, CASE_MS, (w, i) =>
      viaCache(w % 2 === 0 ? node : other, true)(w, i),
    ),
  );
  await node.close();
  await other.close();
  return out;
}

async function peerCases(): Promise<LockRun[]> {
  const redlock = new Redlock([client()], { retryCount: 0 });
  const redlockWaiting = new Redlock([client()], { retryCount: 2_000, retryDelay: 5, retryJitter: 5 });
  const semRedis = client();
  const out: LockRun[] = [];
  out.push(
    await closedLoop("redlock 5.0.0-beta.2, uncontended", WORKERS, CASE_MS, async (w) => {
      const l = await redlock.acquire([`${prefix}redlock:w${w}`], 10_000);
      return () => l.release();
    }),
  );
  out.push(
    await closedLoop("redlock, 16 hot locks", WORKERS, CASE_MS, async (w, i) => {
      const l = await redlockWaiting.acquire([`${prefix}redlock:hot${(w + i) % HOT}`], 10_000);
      return () => l.release();
    }),
  );
  const mutex = (key: string) =>
    new Mutex(semRedis, key, {
      lockTimeout: 10_000,
      acquireTimeout: 10_000,
      retryInterval: 5,
      refreshInterval: 0,
    });
  out.push(
    await closedLoop("redis-semaphore 5.8.0 Mutex, uncontended", WORKERS, CASE_MS, async (w) => {
      const m = mutex(`${prefix}sem:w${w}`);
      await m.acquire();
      return () => m.release();
    }),
  );
  out.push(
    await closedLoop("redis-semaphore Mutex, 16 hot locks", WORKERS, CASE_MS, async (w, i) => {
      const m = mutex(`${prefix}sem:hot${(w + i) % HOT}`);
      await m.acquire();
      return () => m.release();
    }),
  );
  return out;
}

async function limits(): Promise<RedisBenchRow[]> {
  const host = url.hostname;
  const port = Number(url.port || 6379);
  const admin = client();
  const lua = "if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', 2000) then return 1 end return 0";
  const sha = String(await admin.script("LOAD", lua));
  const rows: RedisBenchRow[] = [];
  for (const p of [16, 64]) {
    rows.push(
      await redisBenchmark(
        host,
        port,
        `redis-benchmark SET NX PX, -P ${p}`,
        ["-P", String(p), "SET", `${prefix}rb:__rand_int__`, "v", "NX", "PX", "2000"],
        RB_REQUESTS,
      ),
    );
    rows.push(
      await redisBenchmark(
        host,
        port,
        `redis-benchmark EVALSHA (SET NX PX script), -P ${p}`,
        ["-P", String(p), "EVALSHA", sha, "1", `${prefix}rb:__rand_int__`, "v"],
        RB_REQUESTS,
      ),
    );
  }
  return rows;
}

async function main() {
  const machine = machineLine();
  console.log(machine);
  const rows = [...(await meridianCases()), ...(await peerCases())];
  let limitRows: RedisBenchRow[] = [];
  try {
    limitRows = await limits();
  } catch (err) {
    console.log(`redis-benchmark unavailable: ${(err as Error).message}`);
  }
  const opsPerS = (r: LockRun) => (r.acquisitions + r.releases) / r.seconds;
  const redlockOps = opsPerS(
    rows.find((r) => r.name.startsWith("redlock") && r.name.includes("uncontended"))!,
  );
  const table = markdownTable(
    [
      "case",
      "lock ops/s (acq + rel)",
      "acquisitions/s",
      "releases/s",
      "acquire p50 (ms)",
      "acquire p99 (ms)",
      "× redlock",
      "ops per CPU-second of this process",
      "errors",
    ],
    [
      ...rows.map((r) => [
        r.name,
        opsPerS(r),
        r.acquisitions / r.seconds,
        r.releases / r.seconds,
        quantile(r.acquireMs, 0.5),
        quantile(r.acquireMs, 0.99),
        (opsPerS(r) / redlockOps).toFixed(2),
        (r.acquisitions + r.releases) / r.cpuSeconds,
        r.errors
          ? `${r.errors} (${Object.entries(r.errorKinds)
              .map(([k, n]) => `${k} ${n}`)
              .join(", ")})`
          : 0,
      ]),
      ...limitRows.map((l) => [
        `${l.name} (server limit, one command = one op)`,
        l.rps,
        "—",
        "—",
        l.p50ms,
        l.p99ms,
        (l.rps / redlockOps).toFixed(2),
        0,
      ]),
    ],
  );
  console.log(`\n${table}`);
  const best = rows.reduce((a, b) => (opsPerS(b) > opsPerS(a) ? b : a));
  const bestRemote = rows
    .filter((r) => !r.name.includes("LockCache") && r.name.startsWith("Meridian"))
    .reduce((a, b) => (opsPerS(b) > opsPerS(a) ? b : a));
  const goals = [
    `- ≥ ${fmt(TARGET_OPS)} lock ops/s: ${opsPerS(best) >= TARGET_OPS ? "met" : "NOT met"} — best ${fmt(opsPerS(best))}/s (${best.name}); without caching ${fmt(opsPerS(bestRemote))}/s (${bestRemote.name}).`,
    `- acquire p99 < ${TARGET_P99_MS} ms: ${quantile(best.acquireMs, 0.99) < TARGET_P99_MS ? "met" : "NOT met"} for ${best.name} (${fmt(quantile(best.acquireMs, 0.99))} ms); ${fmt(quantile(bestRemote.acquireMs, 0.99))} ms for ${bestRemote.name}.`,
    `- ≥ 5× redlock: ${opsPerS(best) >= 5 * redlockOps ? "met" : "NOT met"} with caching (${(opsPerS(best) / redlockOps).toFixed(1)}×); ${(opsPerS(bestRemote) / redlockOps).toFixed(1)}× without.`,
  ];
  console.log(goals.join("\n"));
  writeBenchmarksSection(
    "locks",
    [
      "## locks",
      "",
      `\`pnpm bench locks\` — ${machine}; ${WORKERS} concurrent callers per case, ${CASE_MS / 1000} s each; one Redis server.`,
      "",
      table,
      "",
      ...goals,
    ].join("\n"),
  );
  for (const c of clients) c.disconnect();
}

await main();
