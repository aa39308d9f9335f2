// Redis' own limit for the write path's script: redis-benchmark EVALSHA of the PN-counter merge script,
// pipelined (-P 16), next to a bare INCRBY (no merge at all).
import type { Redis } from "ioredis";
import { COUNTER_OP } from "../../packages/eventual/src/counter-merge.js";
import { type RedisBenchRow, redisBenchmark } from "../locks/harness.js";

export async function redisLimits(
  redis: Redis,
  redisUrl: string,
  prefix: string,
  requests: number,
): Promise<RedisBenchRow[]> {
  const url = new URL(redisUrl);
  const rb = (name: string, args: string[]) =>
    redisBenchmark(url.hostname, Number(url.port || 6379), name, args, requests);
  try {
    const sha = String(await redis.script("LOAD", COUNTER_OP.source));
    const k = `${prefix}rb:`;
    const keys = [`${k}entry`, `${k}history`, `${k}bucket`, `${k}entry`];
    const argv = ["bench", "p", "1", "1", "0", "bench", "bench", "1", "20", "3600000", "HOT", "rev", ""];
    return [
      await rb("redis-benchmark EVALSHA (the counter merge script), one hot key, -P 16", [
        ...["-P", "16", "EVALSHA", sha, "4"],
        ...keys,
        ...argv,
      ]),
      await rb("redis-benchmark INCRBY, one hot key, -P 16 (no merge at all)", [
        "-P",
        "16",
        "INCRBY",
        `${k}incr`,
        "1",
      ]),
    ];
  } catch (err) {
    console.log(`redis-benchmark unavailable: ${(err as Error).message}`);
    return [];
  }
}
