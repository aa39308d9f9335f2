// MV-register siblings across regions, resolveConflict, and a stream that drops messages: whatever the
// stream lost, one anti-entropy round brings every region to the same state with no write lost.
import { InvalidInputError } from "@meridian/core";
import { AntiEntropy, applyRemoteUpdate, digestOf, readEntry } from "@meridian/eventual";
import fc from "fast-check";
import { afterAll, describe, expect, it } from "vitest";
import { cleanup, makeRegions } from "./support/eventual-env.js";

afterAll(cleanup);

describe("MV-register siblings", () => {
  it("concurrent writes in two regions become siblings everywhere; a later write resolves them", async () => {
    const [a, b] = makeRegions("mv", ["us-east", "eu-west"]);
    await a!.cache.setWithEventualConsistency("note:desk", "buy");
    await b!.cache.setWithEventualConsistency("note:desk", "sell");
    await applyRemoteUpdate(b!.redis, b!.keyPrefix, a!.publisher.published[0]!);
    await applyRemoteUpdate(a!.redis, a!.keyPrefix, b!.publisher.published[0]!);
    for (const r of [a!, b!]) {
      // siblings come in a canonical order (by clock), the same in every region
      expect((await r.cache.getWithEventualConsistency("note:desk"))!.value).toEqual(["sell", "buy"]);
    }
    await b!.cache.setWithEventualConsistency("note:desk", "hold");
    expect(await applyRemoteUpdate(a!.redis, a!.keyPrefix, b!.publisher.published.at(-1)!)).toBe("applied");
    expect((await a!.cache.getWithEventualConsistency("note:desk"))!.value).toEqual(["hold"]);
  });

  it("resolveConflict picks the dominating copy or merges concurrent ones, and checks the key's policy", async () => {
    const [a, b] = makeRegions("resolve", ["us-east", "eu-west"]);
    await a!.cache.setWithEventualConsistency("position:R", { op: "increment", by: 2 });
    await b!.cache.setWithEventualConsistency("position:R", { op: "increment", by: 3 });
    const ea = (await readEntry(a!.redis, a!.keyPrefix, "position:R"))!;
    const eb = (await readEntry(b!.redis, b!.keyPrefix, "position:R"))!;
    const merged = a!.cache.resolveConflict("position:R", ea, eb);
    expect(merged.crdt.value()).toBe(5);
    expect(merged.clock.toJSON()).toEqual({ "eu-west": 1, "us-east": 1 });
    expect(a!.cache.resolveConflict("position:R", merged, ea)).toBe(merged);
    expect(() => a!.cache.resolveConflict("price:R", ea, eb)).toThrow(InvalidInputError);
    // pure: nothing was written
    expect((await a!.cache.getWithEventualConsistency("position:R"))!.value).toBe(2);
  });
});

describe("a lossy stream plus anti-entropy", () => {
  it("converges with nothing lost whichever updates the stream dropped", async () => {
    const names = ["us-east", "us-west", "eu-west", "ap-south"];
    let run = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.array(
          fc.record({
            region: fc.integer({ min: 0, max: 3 }),
            key: fc.constantFrom("position:A", "position:B", "watch:A", "price:A"),
            n: fc.integer({ min: 1, max: 9 }),
          }),
          { minLength: 1, maxLength: 30 },
        ),
        fc.array(fc.boolean(), { minLength: 120, maxLength: 120 }),
        async (writes, delivered) => {
          const regions = makeRegions(`lossy${run++}`, names);
          await Promise.all(
            writes.map((w) => {
              const c = regions[w.region]!.cache;
              if (w.key.startsWith("position:"))
                return c.setWithEventualConsistency(w.key, { op: "increment", by: w.n });
              if (w.key.startsWith("watch:"))
                return c.setWithEventualConsistency(w.key, { op: "add", element: w.n });
              return c.setWithEventualConsistency(w.key, w.n);
            }),
          );
          // The stream delivers each (update, destination) pair only if `delivered` says so.
          let i = 0;
          for (const src of regions) {
            for (const u of src.publisher.published) {
              for (const dst of regions) {
                if (dst === src || !delivered[i++ % delivered.length]) continue;
                await applyRemoteUpdate(dst.redis, dst.keyPrefix, u);
              }
            }
          }
          await new AntiEntropy(regions, { buckets: 8 }).runOnce();
          for (const key of new Set(writes.map((w) => w.key))) {
            const entries = await Promise.all(regions.map((r) => readEntry(r.redis, r.keyPrefix, key)));
            expect(new Set(entries.map((e) => (e ? digestOf(e) : null))).size, key).toBe(1);
            const mine = writes.filter((w) => w.key === key);
            if (key.startsWith("position:"))
              expect(entries[0]!.crdt.value()).toBe(mine.reduce((s, w) => s + w.n, 0));
            if (key.startsWith("watch:")) {
              expect(entries[0]!.crdt.value()).toEqual(
                [...new Set(mine.map((w) => w.n))].sort((x, y) => x - y),
              );
            }
          }
        },
      ),
      { numRuns: 15 },
    );
  });

  it("anti-entropy running in the background while regions write and the stream delivers loses nothing", async () => {
    const regions = makeRegions("ae-live", ["us-east", "eu-west", "ap-south"]);
    const ae = new AntiEntropy(regions, { intervalMs: 5, buckets: 4 });
    ae.start();
    let expected = 0;
    await Promise.all(
      regions.map(async (r, ri) => {
        for (let i = 0; i < 40; i++) {
          const by = ri + 1;
          expected += by;
          await r.cache.setWithEventualConsistency(`position:L${i % 3}`, { op: "increment", by });
          const u = r.publisher.published.at(-1)!;
          // the stream delivers every other update; anti-entropy has to find the rest
          if (i % 2 === 0) {
            for (const d of regions) if (d !== r) await applyRemoteUpdate(d.redis, d.keyPrefix, u);
          }
        }
      }),
    );
    await ae.stop();
    await ae.runOnce();
    expect(ae.stats.failures).toBe(0);
    expect(ae.stats.rounds).toBeGreaterThan(1);
    let total = 0;
    for (let k = 0; k < 3; k++) {
      const entries = await Promise.all(
        regions.map((r) => readEntry(r.redis, r.keyPrefix, `position:L${k}`)),
      );
      expect(new Set(entries.map((e) => digestOf(e!))).size).toBe(1);
      total += entries[0]!.crdt.value() as number;
    }
    expect(total).toBe(expected);
  });
});
