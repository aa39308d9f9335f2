// Group commit keeps the strong tier linearizable at the rate it exists for: many clients per region share
// one cache (one commit queue) per region, so their sets commit in groups. The checker also catches the
// same load on caches that skip one region's invalidation.
import { REGIONS, type Region } from "@meridian/core";
import { checkLinearizability, describeViolation } from "@meridian/monitor";
import type { StrongConsistencyCache } from "@meridian/strong";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { strongTestEnv } from "../support/strong-env.js";
import { runWorkload, SET_KEYS, setKeys } from "../support/strong-workload.js";

let env: Awaited<ReturnType<typeof strongTestEnv>>;
beforeAll(async () => {
  env = await strongTestEnv("glin", 20);
});
afterAll(() => env.cleanup());

async function seed(keys: readonly string[] = SET_KEYS): Promise<Record<string, number>> {
  const c = env.cache("us-east");
  await Promise.all(keys.map((k) => c.setWithStrongConsistency(k, 0)));
  return Object.fromEntries(keys.map((k) => [k, 0]));
}

/** One cache per region, shared by that region's clients (the node's commit queue). */
function perRegion(make: (r: Region) => StrongConsistencyCache) {
  const caches = new Map(REGIONS.map((r) => [r, make(r)]));
  return { cacheFor: (r: Region) => caches.get(r)!, caches };
}

describe("linearizability with group commit", () => {
  it("40 clients over 5 regions, sets and reads, groups of several writes: the history is linearizable", async () => {
    // 16 keys: ~375 ops and ~2-3 concurrent ops per key keep the search's worst case (seen at 30 s on 8 keys
    // on a loaded 2-core CI machine) well inside the budget; the groups still hold several writes.
    const keys = setKeys(16);
    const initial = await seed(keys);
    const { cacheFor, caches } = perRegion((r) => env.cache(r));
    const { history, counts, errors, elapsedMs } = await runWorkload({
      clients: 40,
      opsPerClient: 150,
      durationMs: 12_000,
      mix: "sets",
      setKeys: keys,
      cacheFor,
    });
    const stats = [...caches.values()].map((c) => c.groupCommitStats()!);
    const writes = stats.reduce((n, s) => n + s.writes, 0);
    const groups = stats.reduce((n, s) => n + s.groups, 0);
    const result = checkLinearizability(history, { initial, timeBudgetMs: 90_000 });
    console.log(
      `group commit: ${history.length} ops in ${elapsedMs.toFixed(0)} ms (${((history.length / elapsedMs) * 1000).toFixed(0)} ops/s) ${JSON.stringify(counts)}; ` +
        `${writes} sets in ${groups} groups (largest ${Math.max(...stats.map((s) => s.largestGroup))}); checker: ${result.status} in ${result.elapsedMs.toFixed(0)} ms`,
    );
    if (result.violation) console.log(describeViolation(result.violation));
    expect(errors.slice(0, 5)).toEqual([]);
    expect(counts.write).toBeGreaterThan(100);
    expect(counts.lockedWrite).toBeGreaterThan(0);
    expect(writes / groups).toBeGreaterThan(1.5); // writes really shared transactions
    expect(result.status).toBe("linearizable");
  }, 180_000);

  it("120 clients over 5 regions on 64 keys, larger groups: the history is linearizable", async () => {
    const keys = setKeys(64);
    const initial = await seed(keys);
    const { cacheFor, caches } = perRegion((r) => env.cache(r));
    const { history, counts, errors, elapsedMs } = await runWorkload({
      clients: 120,
      opsPerClient: 100,
      durationMs: 12_000,
      mix: "sets",
      setKeys: keys,
      cacheFor,
      seed: 3,
    });
    const stats = [...caches.values()].map((c) => c.groupCommitStats()!);
    const writes = stats.reduce((n, s) => n + s.writes, 0);
    const groups = stats.reduce((n, s) => n + s.groups, 0);
    const result = checkLinearizability(history, { initial, timeBudgetMs: 30_000 });
    console.log(
      `group commit, 120 clients: ${history.length} ops in ${elapsedMs.toFixed(0)} ms (${((history.length / elapsedMs) * 1000).toFixed(0)} ops/s) ${JSON.stringify(counts)}; ` +
        `${writes} sets in ${groups} groups (largest ${Math.max(...stats.map((s) => s.largestGroup))}); checker: ${result.status} in ${result.elapsedMs.toFixed(0)} ms`,
    );
    if (result.violation) console.log(describeViolation(result.violation));
    expect(errors.slice(0, 5)).toEqual([]);
    expect(counts.write).toBeGreaterThan(1000);
    // Groups far larger than the 40-client test's, several rounds when a key repeats in a group.
    expect(Math.max(...stats.map((s) => s.largestGroup))).toBeGreaterThanOrEqual(8);
    expect(writes / groups).toBeGreaterThan(3);
    expect(result.status).toBe("linearizable");
  }, 120_000);

  it("the same load on caches that never invalidate ap-south's copy is caught as not linearizable", async () => {
    const initial = await seed();
    const { "ap-south": _skipped, ...others } = env.redis;
    const { cacheFor } = perRegion((r) => env.cache(r, r === "ap-south" ? {} : { peers: others }));
    const { history } = await runWorkload({
      clients: 40,
      opsPerClient: 150,
      durationMs: 12_000,
      mix: "sets",
      cacheFor,
      seed: 7,
    });
    const result = checkLinearizability(history, { initial, timeBudgetMs: 30_000 });
    console.log(`skipping one region: ${history.length} ops; checker: ${result.status}`);
    expect(result.status).toBe("not-linearizable");
    const v = result.violation!;
    console.log(describeViolation(v, 12));
    expect(v.prefix).toContain(v.failingOperation);
  }, 120_000);
});
