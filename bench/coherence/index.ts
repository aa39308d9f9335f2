// Coherence benchmark: how many coherence messages per second the in-process manager handles, and the
// p50/p99 time to handle one message, beside the seed's targets (10 M messages/s, < 1 ms per message).
// Also the raw table-step rate, and CoherentNearCache operation latencies against the real Redis.
// Run: pnpm tsx bench/coherence/index.ts
import { randomUUID } from "node:crypto";
import os from "node:os";
import {
  CACHE_TABLE,
  CacheCoherenceManager,
  CacheController,
  type CacheLine,
  type CoherenceMessage,
  CoherentNearCache,
  DIRECTORY_TABLE,
  DirectoryController,
  InMemoryStore,
  newDirLine,
} from "@meridian/coherence";
import { configFromEnv } from "@meridian/core";
import { Redis } from "ioredis";

const TARGET_MSGS_PER_S = 10_000_000;
const TARGET_P99_MS = 1;

function percentile(sorted: Float64Array | number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const fmt = (n: number) => n.toLocaleString("en-US", { maximumFractionDigits: 0 });
const fmt3 = (n: number) => n.toLocaleString("en-US", { maximumFractionDigits: 4 });

function machine(): string {
  const cpus = os.cpus();
  return `${cpus[0]?.model ?? "?"} x${cpus.length}, ${Math.round(os.totalmem() / 2 ** 30)} GiB, ${os.platform()} ${os.release()}, node ${process.version}`;
}

/** A deterministic workload: reads and writes from many nodes on a skewed (hot) key set. */
async function runManager(withLatency: boolean, ops: number) {
  let seed = 12345;
  const rnd = () => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return seed / 2 ** 31;
  };
  const latencies: number[] = [];
  const l3 = new InMemoryStore<number>();
  const m = new CacheCoherenceManager<number>(
    { l1: { caches: 8, capacity: 64 }, l3, l2: { writeBuffer: { maxEntries: 4096, maxAgeMs: 1000 } } },
    withLatency ? { onMessageHandled: (_t, ns) => latencies.push(ns) } : {},
  );
  const keys = Array.from({ length: 512 }, (_, i) => `k${i}`);
  // Warm L2 so the timed loop measures coherence, not L3 loads.
  for (const k of keys) await m.readRequest(0, k);
  const m0 = m.stats.messagesHandled;
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < ops; i++) {
    const node = Math.floor(rnd() * 8);
    const key = keys[Math.floor(rnd() ** 3 * keys.length)]!; // skewed: hot keys bounce between nodes
    if (rnd() < 0.7) await m.readRequest(node, key);
    else await m.writeRequest(node, key, i, rnd() < 0.1 ? "critical" : "important");
  }
  const secs = Number(process.hrtime.bigint() - t0) / 1e9;
  await m.shutdown();
  const msgs = m.stats.messagesHandled - m0;
  const sorted = Float64Array.from(latencies).sort();
  return {
    msgs,
    secs,
    ops,
    p50ns: percentile(sorted, 50),
    p99ns: percentile(sorted, 99),
    byType: m.stats.byType,
  };
}

/** The table interpreter alone: a GetS/Data/Unblock + GetM/Inv/InvAck cycle between two caches. */
function runTableSteps(rounds: number) {
  const cc = new CacheController(CACHE_TABLE);
  const dc = new DirectoryController(DIRECTORY_TABLE);
  const q: CoherenceMessage<number>[] = [];
  const lines: CacheLine<number>[] = [
    { state: "I", value: undefined },
    { state: "I", value: undefined },
  ];
  const d = newDirLine<number>(0);
  const fx = { send: (m: CoherenceMessage<number>) => q.push(m), readHit: () => {}, write: () => 1 };
  let handled = 0;
  const drain = () => {
    for (let m = q.shift(); m; m = q.shift()) {
      handled++;
      if (m.to === -1) dc.step(d, m, fx);
      else cc.step(m.to, "L", lines[m.to]!, m, fx);
    }
  };
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < rounds; i++) {
    const a = i & 1;
    cc.step(a, "L", lines[a]!, "Load", fx);
    drain();
    cc.step(1 - a, "L", lines[1 - a]!, "Load", fx);
    drain();
    cc.step(a, "L", lines[a]!, "Store", fx);
    drain();
  }
  const secs = Number(process.hrtime.bigint() - t0) / 1e9;
  return { handled, secs };
}

async function runNearCache(ops: number) {
  const redisUrl = configFromEnv().redisUrl;
  const prefix = `mer-coh-bench-${randomUUID().slice(0, 8)}`;
  const a = await CoherentNearCache.connect<number>({ redisUrl, prefix, nodeId: "a" });
  const b = await CoherentNearCache.connect<number>({ redisUrl, prefix, nodeId: "b" });
  const time = async (fn: () => Promise<unknown>) => {
    const t = process.hrtime.bigint();
    await fn();
    return Number(process.hrtime.bigint() - t) / 1e6;
  };
  const hit: number[] = [];
  const crossRead: number[] = [];
  const writeBack: number[] = [];
  const writeThrough: number[] = [];
  for (let i = 0; i < ops; i++) {
    writeBack.push(await time(() => a.set(`k${i % 50}`, i, "important"))); // may invalidate b's copy
    crossRead.push(await time(() => b.get(`k${i % 50}`))); // recall of a's dirty line
    hit.push(await time(() => b.get(`k${i % 50}`)));
    writeThrough.push(await time(() => b.set(`c${i % 50}`, i, "critical")));
  }
  await a.close();
  await b.close();
  const admin = new Redis(redisUrl);
  let cursor = "0";
  do {
    const [next, keys] = await admin.scan(cursor, "MATCH", `${prefix}:*`, "COUNT", 500);
    cursor = next;
    if (keys.length) await admin.del(...keys);
  } while (cursor !== "0");
  await admin.quit();
  const row = (name: string, xs: number[]) => {
    const s = Float64Array.from(xs).sort();
    console.log(
      `  ${name.padEnd(44)} p50 ${fmt3(percentile(s, 50)).padStart(8)} ms   p99 ${fmt3(percentile(s, 99)).padStart(8)} ms`,
    );
  };
  row("L1 hit (get)", hit);
  row("get after a peer's write (recall + L2 read)", crossRead);
  row("set important (write-back; GetM + Inv/Ack)", writeBack);
  row("set critical (write-through to Redis)", writeThrough);
}

async function main() {
  console.log(
    `machine: ${machine()}; load average ${os
      .loadavg()
      .map((l) => l.toFixed(1))
      .join(" ")}`,
  );
  console.log(
    `targets (seed): ${fmt(TARGET_MSGS_PER_S)} messages/s, p99 < ${TARGET_P99_MS} ms per message\n`,
  );

  const runs = 5;
  const tput: number[] = [];
  let last: Awaited<ReturnType<typeof runManager>> | undefined;
  for (let r = 0; r < runs; r++) {
    last = await runManager(false, 200_000);
    tput.push(last.msgs / last.secs);
    if (process.env.BENCH_VERBOSE)
      console.log(`  run ${r}: ${fmt(last.msgs / last.secs)} messages/s, ${last.secs.toFixed(2)} s`);
  }
  const lat = await runManager(true, 200_000);
  const steps: number[] = [];
  for (let r = 0; r < runs; r++) {
    const s = runTableSteps(300_000);
    steps.push(s.handled / s.secs);
  }

  console.log("in-process CacheCoherenceManager (8 L1 caches, 512 keys, 70% reads, skewed keys)");
  console.log(
    `  messages per run: ${fmt(last!.msgs)} for ${fmt(last!.ops)} operations; by type ${JSON.stringify(last!.byType)}`,
  );
  console.log(
    `  throughput (median of ${runs}; range ${fmt(Math.min(...tput))}-${fmt(Math.max(...tput))}): ${fmt(median(tput))} messages/s   [target ${fmt(TARGET_MSGS_PER_S)}; ${(median(tput) / TARGET_MSGS_PER_S).toFixed(3)}x]`,
  );
  console.log(
    `  handling latency per message: p50 ${fmt3(lat.p50ns / 1e6)} ms, p99 ${fmt3(lat.p99ns / 1e6)} ms   [target p99 < ${TARGET_P99_MS} ms; ${lat.p99ns / 1e6 < TARGET_P99_MS ? "met" : "missed"}]`,
  );
  console.log(
    `  table interpreter alone (no queues/async; range ${fmt(Math.min(...steps))}-${fmt(Math.max(...steps))}): ${fmt(median(steps))} messages/s   [${(median(steps) / TARGET_MSGS_PER_S).toFixed(3)}x target]`,
  );

  console.log(
    "\nCoherentNearCache over real Redis (2 nodes, one process, pub/sub invalidations), 500 rounds",
  );
  try {
    await runNearCache(500);
  } catch (err) {
    console.log(`  skipped: Redis unavailable (${(err as Error).message})`);
  }
}

await main();
