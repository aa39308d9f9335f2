// Run: pnpm tsx bench/eventual/measure-throughput.ts
// Local Redis throughput of writes, reads, applyRemoteUpdate, and anti-entropy round times (3 regions, ~10k keys).

import { randomUUID } from "node:crypto";
import os from "node:os";
import { configFromEnv } from "@meridian/core";
import {
  AntiEntropy,
  applyRemoteUpdate,
  type CacheUpdate,
  crdtPolicyByPrefix,
  EventualConsistencyCache,
} from "@meridian/eventual";
import { deleteKeysWithPrefix } from "@meridian/store";
import { Redis } from "ioredis";

const run = randomUUID().slice(0, 6);
const mk = (r: string) => ({
  region: r,
  redis: new Redis(configFromEnv().redisUrl, { db: 5 }),
  keyPrefix: `mer-ev-bench-${run}:${r}:`,
});
const regions = ["us-east", "eu-west", "ap-south"].map(mk);
const pub: CacheUpdate[] = [];
const cache = new EventualConsistencyCache(
  regions[0]!.redis,
  { publish: async (u) => void pub.push(u) },
  {
    region: "us-east",
    keyPrefix: regions[0]!.keyPrefix,
    crdtTypeFor: crdtPolicyByPrefix({ "price:": "lww", "position:": "pncounter" }),
  },
);
const median = (xs: number[]) => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
async function timed(label: string, n: number, fn: (i: number) => Promise<unknown>, conc = 1) {
  const rates: number[] = [];
  for (let rep = 0; rep < 3; rep++) {
    const t0 = performance.now();
    let next = 0;
    await Promise.all(
      Array.from({ length: conc }, async () => {
        while (next < n) await fn(next++);
      }),
    );
    rates.push(n / ((performance.now() - t0) / 1000));
  }
  console.log(`${label.padEnd(58)} median ${median(rates).toFixed(0)} ops/s (3 reps x ${n})`);
}
console.log(`node ${process.version} ${os.cpus()[0]?.model} x${os.cpus().length}`);
await timed("set lww, distinct keys, sequential", 2000, (i) =>
  cache.setWithEventualConsistency(`price:${i % 500}`, i),
);
await timed(
  "set lww, distinct keys, 32 concurrent",
  5000,
  (i) => cache.setWithEventualConsistency(`price:${i % 500}`, i),
  32,
);
await timed(
  "set pncounter, ONE hot key, 32 concurrent (coalesced)",
  1000,
  () => cache.setWithEventualConsistency("position:hot", { op: "increment" }),
  32,
);
await timed(
  "getWithEventualConsistency, 32 concurrent",
  5000,
  (i) => cache.getWithEventualConsistency(`price:${i % 500}`),
  32,
);
const ups = pub.slice(0, 4000);
await timed(
  "applyRemoteUpdate into eu-west, 32 concurrent",
  ups.length,
  (i) => applyRemoteUpdate(regions[1]!.redis, regions[1]!.keyPrefix, ups[i]!),
  32,
);
// anti-entropy: 10k keys, 3 regions
for (let i = 0; i < 10_000; i += 100)
  await Promise.all(
    Array.from({ length: 100 }, (_, j) => cache.setWithEventualConsistency(`price:k${i + j}`, i + j)),
  );
const ae = new AntiEntropy(regions, { buckets: 64 });
let t0 = performance.now();
let r = await ae.runOnce();
console.log(`AE initial sync 10k+ keys into 2 empty regions: ${(performance.now() - t0).toFixed(0)} ms`, r);
const times: number[] = [];
for (let k = 0; k < 5; k++) {
  t0 = performance.now();
  r = await ae.runOnce();
  times.push(performance.now() - t0);
}
console.log(`AE round, 3 regions all equal (~10.5k keys each): median ${median(times).toFixed(1)} ms`, r);
for (let i = 0; i < 100; i++) await regions[2]!.redis.del(`${regions[2]!.keyPrefix}e:price:k${i * 97}`);
t0 = performance.now();
r = await ae.runOnce();
console.log(
  `AE round repairing 100 deleted keys in one region: ${(performance.now() - t0).toFixed(0)} ms`,
  r,
);
for (const s of regions) {
  await deleteKeysWithPrefix(s.redis, s.keyPrefix);
  s.redis.disconnect();
}
