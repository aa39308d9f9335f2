// What one commit group costs Redis, counted by the server itself (INFO commandstats on a private
// redis-server, five regions = five DBs of it): the invalidation, the write-through and the marker removal
// are one script call per region whatever the number of keys, and the run-id check (INFO inside the
// write-through script) runs once per group, not once per key.
import { type RedisServerProcess, startRedisServer } from "@meridian/cluster";
import { REGIONS, type Region } from "@meridian/core";
import fc from "fast-check";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { strongTestEnv } from "../support/strong-env.js";

let server: RedisServerProcess;
let control: Redis;
let env: Awaited<ReturnType<typeof strongTestEnv>>;

beforeAll(async () => {
  server = await startRedisServer();
  control = new Redis(server.url);
  const regions = Object.fromEntries(
    REGIONS.map((r, i) => [r, new Redis(server.url, { db: 1 + i })]),
  ) as Record<Region, Redis>;
  env = await strongTestEnv("gcalls", 4, regions);
});
afterAll(async () => {
  await env?.cleanup();
  control?.disconnect();
  await server?.stop();
});

/** Calls per command since the last CONFIG RESETSTAT (commands run inside scripts included). */
async function commandCalls(): Promise<Map<string, number>> {
  const text = await control.info("commandstats");
  return new Map(
    [...text.matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)].map((m) => [m[1]!, Number(m[2])] as const),
  );
}

describe("Redis calls of one commit group", () => {
  it("one group of n sets: 2 script calls per region and one run-id check, for any n", async () => {
    const east = env.cache("us-east");
    await east.setWithStrongConsistency("warm", 0); // scripts loaded on every region's connection
    let run = 0;
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 1, max: 200 }), async (n) => {
        const keys = Array.from({ length: n }, (_, i) => `r${run}:k${i}`);
        run++;
        const before = { ...east.groupCommitStats()! };
        await control.config("RESETSTAT");
        // Submitted in one turn: one group.
        const acks = await Promise.all(keys.map((k, i) => east.setWithStrongConsistency(k, { i })));
        const calls = await commandCalls();
        expect(east.groupCommitStats()!.groups - before.groups).toBe(1);
        const scriptCalls = (calls.get("evalsha") ?? 0) + (calls.get("eval") ?? 0);
        // Before COMMIT: one invalidation per region; after: the local write-through + marker removal in
        // each other region.
        expect(scriptCalls).toBe(2 * REGIONS.length);
        expect(calls.get("info") ?? 0).toBe(1);
        // And the group did its work: each key written through locally at its version.
        for (const [i, k] of keys.entries()) {
          expect((await east.peekLocal(k))?.version).toBe(acks[i]!.version);
        }
      }),
      { numRuns: 8 },
    );
  });
});
