// The strong tier is linearizable under 16 concurrent clients in five regions — and the checker notices
// when it is not (the same workload on a cache that skips invalidating other regions).

import { checkLinearizability, describeViolation } from "@meridian/monitor";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { strongTestEnv } from "../support/strong-env.js";
import { HOT_KEYS, runWorkload } from "../support/strong-workload.js";

let env: Awaited<ReturnType<typeof strongTestEnv>>;
beforeAll(async () => {
  env = await strongTestEnv("lin", 20);
});
afterAll(() => env.cleanup());

async function seedKeys(prefix: string) {
  const c = env.cache("us-east");
  const initial: Record<string, number> = {};
  for (const k of HOT_KEYS) {
    await c.setWithStrongConsistency(`${prefix}${k}`, 0);
    initial[`${prefix}${k}`] = 0;
  }
  return initial;
}

describe("linearizability of the strong tier", () => {
  it("16 clients over 5 regions, 500 ops each (reads, writes, CAS, transactions): the history is linearizable", async () => {
    const initial = await seedKeys("");
    const { history, counts, errors, elapsedMs } = await runWorkload({
      clients: 16,
      opsPerClient: 500,
      cacheFor: (region) => env.cache(region),
    });
    const result = checkLinearizability(history, { initial, timeBudgetMs: 300_000 });
    console.log(
      `workload: ${history.length} ops in ${elapsedMs.toFixed(0)} ms ${JSON.stringify(counts)}; checker: ${result.status} in ${result.elapsedMs.toFixed(0)} ms`,
      result.partitions.map((p) => ({ keys: p.keys, ops: p.operations, ms: Math.round(p.elapsedMs) })),
    );
    if (result.violation) console.log(describeViolation(result.violation));
    expect(history.length).toBe(16 * 500);
    expect(errors.slice(0, 5)).toEqual([]);
    expect(counts.errors).toBe(0);
    expect(counts.read).toBeGreaterThan(0);
    expect(counts.txn).toBeGreaterThan(0);
    expect(counts.lockedWrite).toBeGreaterThan(0);
    expect(result.status).toBe("linearizable");
    expect(result.partitions).toHaveLength(2);
    for (const p of result.partitions) expect(p.witness).toHaveLength(p.operations);
  }, 600_000);

  it("the same workload on a cache without invalidation of other regions is caught as not linearizable", async () => {
    const initial = await seedKeys("");
    const { history } = await runWorkload({
      clients: 16,
      opsPerClient: 150,
      cacheFor: (region) => env.blindCache(region),
      seed: 7,
    });
    const result = checkLinearizability(history, { initial, timeBudgetMs: 300_000 });
    console.log(
      `broken cache: ${history.length} ops; checker: ${result.status} in ${result.elapsedMs.toFixed(0)} ms`,
    );
    expect(result.status).toBe("not-linearizable");
    const v = result.violation!;
    console.log(describeViolation(v, 12));
    expect(v.prefix).toContain(v.failingOperation);
    expect(v.prefix.length).toBeLessThan(history.length);
  }, 600_000);
});
