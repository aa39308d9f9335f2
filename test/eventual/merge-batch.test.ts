// Batched merges (merge-batch.ts: the per-key merge script looped inside one script call, 128 merges per
// call) against the same updates merged one call at a time, on the real Redis: for any writes made in
// three regions (every CRDT type, several keys, windows longer than one script call), the batch leaves
// byte-identical entries, digests and history and answers the same outcomes, in order.
import fc from "fast-check";
import { afterAll, describe, expect, it } from "vitest";
import { applyRemoteUpdate, applyRemoteUpdates } from "../../packages/eventual/src/entry-store.js";
import { entryKey, historyKey } from "../../packages/eventual/src/keys.js";
import type { CacheUpdate } from "../../packages/eventual/src/types.js";
import { cleanup, cleanupLater, makeRegions, redisFor, runId } from "./support/eventual-env.js";

const KEYS = ["price:a", "price:b", "position:a", "position:b", "watch:a", "note:a"];

const writeArb = fc.record({
  region: fc.integer({ min: 0, max: 2 }),
  key: fc.constantFrom(...KEYS),
  n: fc.integer({ min: 0, max: 5 }),
});

function valueFor(key: string, n: number): unknown {
  if (key.startsWith("position:")) return { op: n % 2 ? "decrement" : "increment", by: n };
  if (key.startsWith("watch:")) return { op: n === 0 ? "remove" : "add", element: `e${n % 3}` };
  return { n };
}

describe("batched merge script", () => {
  const redis = redisFor();
  afterAll(cleanup);

  it("equals one merge call at a time: same bytes, same outcomes, across script-call boundaries", async () => {
    let run = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(writeArb, { minLength: 130, maxLength: 300 }), async (writes) => {
        run++;
        const regions = makeRegions(`mb${run}`, ["us-east", "eu-west", "ap-south"], {
          cache: { coalesce: false },
        });
        for (const w of writes)
          await regions[w.region]!.cache.setWithEventualConsistency(w.key, valueFor(w.key, w.n));
        const updates: CacheUpdate[] = regions.flatMap((r) => r.publisher.published);
        const batched = cleanupLater(redis, `mer-mb-${runId}-${run}-batched:`);
        const single = cleanupLater(redis, `mer-mb-${runId}-${run}-single:`);
        const opts = { now: () => 1_000, localRegion: "sink" };
        const batchOutcomes = await applyRemoteUpdates(redis, batched, updates, opts);
        const singleOutcomes = [];
        for (const u of updates) singleOutcomes.push(await applyRemoteUpdate(redis, single, u, opts));
        expect(batchOutcomes).toEqual(singleOutcomes);
        for (const key of KEYS) {
          expect(await redis.hmget(entryKey(batched, key), "entry", "digest")).toEqual(
            await redis.hmget(entryKey(single, key), "entry", "digest"),
          );
          expect(await redis.lrange(historyKey(batched, key), 0, -1)).toEqual(
            await redis.lrange(historyKey(single, key), 0, -1),
          );
        }
      }),
      { numRuns: 4 },
    );
  }, 60_000);
});
