// Run: pnpm tsx bench/locks/measure-fencing-cost.ts
// What durable fencing costs on acquire: acquire+release round trips with the epoch-checked ACQUIRE script
// (INFO run_id inside Lua) against the same loop with a plain INCR fence, on the shared Redis, plus the
// one-off cost of drawing a new epoch from PostgreSQL (paid once per Redis incarnation and lock space).
import { randomUUID } from "node:crypto";
import os from "node:os";
import { configFromEnv } from "@meridian/core";
import { LockManager, pgFenceEpochs } from "@meridian/locks";
import { LuaScript } from "@meridian/store";
import { Redis } from "ioredis";
import { createPrivateSchema } from "../lib/pg-schema.js";

const N = Number(process.env.N ?? 2_000);
const cfg = configFromEnv();
const redis = new Redis(cfg.redisUrl, { db: 9 });
const schema = await createPrivateSchema(cfg.pgUrl, `fence_cost_${randomUUID().slice(0, 6)}`, 2);
const pool = schema.pool;
const prefix = `fence-cost:${randomUUID().slice(0, 6)}:`;

const PLAIN = new LuaScript(
  "plainAcquire",
  `if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then return redis.call('INCR', KEYS[2]) end return -1`,
  2,
);

// The same plain script plus the incarnation check alone: isolates what INFO inside Lua costs.
const WITH_INFO = new LuaScript(
  "plainAcquireWithInfo",
  `local rid = string.match(redis.call('INFO', 'server'), 'run_id:(%x+)')
if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then return redis.call('INCR', KEYS[2]) end return -1`,
  2,
);

const q = (xs: number[], p: number) =>
  [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(p * xs.length))]!;
const fmt = (xs: number[]) => `median ${q(xs, 0.5).toFixed(3)} ms, p99 ${q(xs, 0.99).toFixed(3)} ms`;

async function loop(acquire: (i: number) => Promise<unknown>, release: (i: number) => Promise<unknown>) {
  const times: number[] = [];
  for (let i = 0; i < N; i++) {
    const t = performance.now();
    await acquire(i);
    times.push(performance.now() - t);
    await release(i);
  }
  return times;
}

const m = new LockManager(redis, {
  prefix,
  watchdog: false,
  detectDeadlocks: false,
  fenceEpochs: pgFenceEpochs(pool),
});
const firstStart = performance.now();
await (await m.acquire("warm")).release(); // installs the first epoch
const firstMs = performance.now() - firstStart;
const drawTimes: number[] = [];
const epochs = pgFenceEpochs(pool);
for (let i = 0; i < 200; i++) {
  const t = performance.now();
  await epochs.next(`${prefix}draw`);
  drawTimes.push(performance.now() - t);
}
for (let round = 0; round < 2; round++) {
  const handles: Awaited<ReturnType<typeof m.acquire>>[] = [];
  const durable = await loop(
    async (i) => {
      handles[i] = await m.acquire("r");
    },
    (i) => handles[i]!.release(),
  );
  const plain = await loop(
    (i) => PLAIN.run(redis, [`${prefix}p`, `${prefix}pf`], [`t${i}`, 30_000]),
    () => redis.del(`${prefix}p`),
  );
  const withInfo = await loop(
    (i) => WITH_INFO.run(redis, [`${prefix}p`, `${prefix}pf`], [`t${i}`, 30_000]),
    () => redis.del(`${prefix}p`),
  );
  if (round === 1) {
    console.log(
      `machine: ${os.cpus()[0]?.model} x${os.cpus().length}, load ${os
        .loadavg()
        .map((x) => x.toFixed(2))
        .join(" ")}, ${new Date().toISOString()}`,
    );
    console.log(`acquire, durable fencing (epoch check, INFO in Lua): ${fmt(durable)} (n=${N})`);
    console.log(`acquire, plain INCR fence (before):                  ${fmt(plain)} (n=${N})`);
    console.log(`plain script + INFO run_id check alone:            ${fmt(withInfo)} (n=${N})`);
    console.log(
      `ratio of medians: LockManager.acquire / plain ${(q(durable, 0.5) / q(plain, 0.5)).toFixed(2)}, INFO check / plain ${(q(withInfo, 0.5) / q(plain, 0.5)).toFixed(2)}`,
    );
    console.log(
      `new epoch drawn from PostgreSQL: ${fmt(drawTimes)}; first acquire after a restart: ${firstMs.toFixed(1)} ms`,
    );
  }
}
const keys = await redis.keys(`${prefix}*`);
if (keys.length > 0) await redis.del(...keys);
redis.disconnect();
await schema.drop();
