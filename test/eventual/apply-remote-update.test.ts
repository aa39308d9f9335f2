// applyRemoteUpdate and local writes against the real Redis: outcomes, idempotent replay, atomicity
// under concurrency on one shared connection, convergence whatever the delivery order, bad input.
import {
  BackendUnavailableError,
  InvalidInputError,
  SerializationError,
  StaleVersionError,
} from "@meridian/core";
import { applyRemoteUpdate, type CacheUpdate, digestOf, readEntry } from "@meridian/eventual";
import fc from "fast-check";
import { afterAll, describe, expect, it } from "vitest";
import { cleanup, makeRegions, type TestRegion } from "./support/eventual-env.js";

afterAll(cleanup);

async function deliverAll(regions: TestRegion[], updates: CacheUpdate[]): Promise<void> {
  for (const r of regions) for (const u of updates) await applyRemoteUpdate(r.redis, r.keyPrefix, u);
}

describe("applyRemoteUpdate", () => {
  it("applies, ignores duplicates and dominated updates, merges concurrent ones", async () => {
    const [a, b] = makeRegions("outcomes", ["us-east", "eu-west"]);
    await a!.cache.setWithEventualConsistency("position:ACME", { op: "increment", by: 10 });
    const first = a!.publisher.published.at(-1)!;
    expect(await applyRemoteUpdate(b!.redis, b!.keyPrefix, first)).toBe("applied");
    expect(await applyRemoteUpdate(b!.redis, b!.keyPrefix, first)).toBe("duplicate");

    await a!.cache.setWithEventualConsistency("position:ACME", { op: "increment", by: 5 });
    const second = a!.publisher.published.at(-1)!;
    expect(await applyRemoteUpdate(b!.redis, b!.keyPrefix, second)).toBe("applied");
    expect(await applyRemoteUpdate(b!.redis, b!.keyPrefix, first)).toBe("dominated");

    // eu-west writes concurrently with a third us-east write
    await b!.cache.setWithEventualConsistency("position:ACME", { op: "decrement", by: 3 });
    await a!.cache.setWithEventualConsistency("position:ACME", { op: "increment", by: 1 });
    expect(await applyRemoteUpdate(b!.redis, b!.keyPrefix, a!.publisher.published.at(-1)!)).toBe("merged");
    expect(await applyRemoteUpdate(a!.redis, a!.keyPrefix, b!.publisher.published.at(-1)!)).toBe("merged");
    const ea = await readEntry(a!.redis, a!.keyPrefix, "position:ACME");
    const eb = await readEntry(b!.redis, b!.keyPrefix, "position:ACME");
    expect(ea!.crdt.value()).toBe(13);
    expect(digestOf(ea!)).toBe(digestOf(eb!));
    expect(ea!.clock.toJSON()).toEqual({ "eu-west": 1, "us-east": 3 });
  });

  it("many concurrent writers on one shared connection lose nothing (CAS retries)", async () => {
    // Uncoalesced: each write its own CAS, so the writers really race.
    const [a, b] = makeRegions("concurrent", ["us-east", "eu-west"], { cache: { coalesce: false } });
    await Promise.all(
      Array.from({ length: 60 }, (_, i) =>
        i % 2 === 0
          ? a!.cache.setWithEventualConsistency("position:X", { op: "increment", by: 2 })
          : a!.cache.setWithEventualConsistency("watch:list", { op: "add", element: `S${i}` }),
      ),
    );
    const read = await a!.cache.getWithEventualConsistency("position:X");
    expect(read!.value).toBe(60);
    expect(read!.version).toEqual({ "us-east": 30 });
    expect(((await a!.cache.getWithEventualConsistency("watch:list"))!.value as string[]).length).toBe(30);
    // and every published update, applied concurrently elsewhere, converges to the same state
    await Promise.all(a!.publisher.published.map((u) => applyRemoteUpdate(b!.redis, b!.keyPrefix, u)));
    for (const key of ["position:X", "watch:list"]) {
      expect(digestOf((await readEntry(b!.redis, b!.keyPrefix, key))!)).toBe(
        digestOf((await readEntry(a!.redis, a!.keyPrefix, key))!),
      );
    }
  });

  it("concurrent updates in several regions converge regardless of delivery order and duplicates", async () => {
    const names = ["us-east", "us-west", "eu-west"];
    const op = fc.oneof(
      fc.record({
        key: fc.constant("position:P"),
        value: fc.record({ op: fc.constant("increment"), by: fc.integer({ min: 1, max: 9 }) }),
      }),
      fc.record({
        key: fc.constant("position:P"),
        value: fc.record({ op: fc.constant("decrement"), by: fc.integer({ min: 1, max: 9 }) }),
      }),
      fc.record({ key: fc.constant("price:P"), value: fc.double({ min: 1, max: 500, noNaN: true }) }),
      fc.record({
        key: fc.constant("watch:P"),
        value: fc.record({ op: fc.constantFrom("add", "remove"), element: fc.constantFrom("A", "B", "C") }),
      }),
      fc.record({ key: fc.constant("note:P"), value: fc.string({ maxLength: 3 }) }),
    );
    let run = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.tuple(fc.integer({ min: 0, max: 2 }), op), { minLength: 1, maxLength: 20 }),
        fc.array(fc.integer({ min: 0, max: 2 }), { maxLength: 6 }),
        fc.integer({ min: 0, max: 1_000_000 }),
        async (writes, exchanges, seed) => {
          const regions = makeRegions(`perm${run++}`, names);
          // Writes run concurrently per region; "exchanges" let a region absorb others' updates midway,
          // so later writes causally follow some earlier ones (mix of ordered and concurrent updates).
          const half = Math.ceil(writes.length / 2);
          for (const phase of [writes.slice(0, half), writes.slice(half)]) {
            await Promise.all(
              phase.map(([r, w]) => regions[r]!.cache.setWithEventualConsistency(w.key, w.value)),
            );
            for (const r of exchanges) {
              const absorbed = regions.filter((_, i) => i !== r).flatMap((o) => o.publisher.published);
              for (const u of absorbed) await applyRemoteUpdate(regions[r]!.redis, regions[r]!.keyPrefix, u);
            }
          }
          const all = regions.flatMap((r) => r.publisher.published);
          // Each region gets every update in its own random order, plus random duplicates.
          for (const [i, r] of regions.entries()) {
            const order = fc.sample(
              fc.shuffledSubarray(all, { minLength: all.length, maxLength: all.length }),
              {
                seed: seed + i,
                numRuns: 1,
              },
            )[0]!;
            const dups = fc.sample(fc.array(fc.constantFrom(...all), { maxLength: 5 }), {
              seed: seed + 10 + i,
              numRuns: 1,
            })[0]!;
            await deliverAll([r], [...order, ...dups]);
          }
          for (const key of new Set(writes.map(([, w]) => w.key))) {
            const entries = await Promise.all(regions.map((r) => readEntry(r.redis, r.keyPrefix, key)));
            const digests = entries.map((e) => (e ? digestOf(e) : null));
            expect(new Set(digests).size, key).toBe(1);
            if (key === "position:P") {
              const sum = writes
                .filter(([, w]) => w.key === key)
                .reduce((acc, [, w]) => {
                  const v = w.value as { op: string; by: number };
                  return acc + (v.op === "increment" ? v.by : -v.by);
                }, 0);
              expect(entries[0]!.crdt.value()).toBe(sum);
            }
          }
        },
      ),
      { numRuns: 25 },
    );
  });
});

describe("bad input gives InvalidInputError and loses nothing", () => {
  it("malformed remote updates are refused before anything is written", async () => {
    const [a, b] = makeRegions("bad", ["us-east", "eu-west"]);
    await a!.cache.setWithEventualConsistency("price:Z", 42);
    const good = a!.publisher.published.at(-1)!;
    await applyRemoteUpdate(b!.redis, b!.keyPrefix, good);
    const before = digestOf((await readEntry(b!.redis, b!.keyPrefix, "price:Z"))!);
    const bad: unknown[] = [
      { ...good, state: "{oops" },
      { ...good, crdtType: "pncounter" },
      {
        ...good,
        state: JSON.stringify({ type: "pncounter", state: { p: { x: 1 }, n: {} } }),
        crdtType: "pncounter",
      },
      { ...good, vectorClock: { "us-east": -3 } },
      { ...good, hlcWallMs: Number.NaN },
      { ...good, key: "" },
      { ...good, kind: "INVALIDATE" },
      { ...good, region: "" },
      null,
    ];
    for (const u of bad) {
      await expect(
        applyRemoteUpdate(b!.redis, b!.keyPrefix, u as CacheUpdate),
        JSON.stringify(u),
      ).rejects.toThrow(InvalidInputError);
    }
    expect(digestOf((await readEntry(b!.redis, b!.keyPrefix, "price:Z"))!)).toBe(before);
    expect((await b!.cache.getWithEventualConsistency("price:Z"))!.value).toBe(42);
  });

  it("bad local writes and reads are refused; the stored value stays", async () => {
    const [a] = makeRegions("badlocal", ["us-east"]);
    await a!.cache.setWithEventualConsistency("position:Q", { op: "increment", by: 4 });
    const published = a!.publisher.published.length;
    const attempts: Array<() => Promise<unknown>> = [
      () => a!.cache.setWithEventualConsistency("position:Q", { op: "increment", by: -1 }),
      () => a!.cache.setWithEventualConsistency("position:Q", "four"),
      () => a!.cache.setWithEventualConsistency("price:Q", undefined),
      () => a!.cache.setWithEventualConsistency("price:Q", { x: 1n }),
      () => a!.cache.setWithEventualConsistency("", 1),
      () => a!.cache.setWithEventualConsistency("price:Q", 1, { "us-east": -1 }),
      () => a!.cache.getWithEventualConsistency("position:Q", { maxAgeMs: -5 }),
      () => a!.cache.rollback("position:Q", { "us-east": 99 }),
    ];
    for (const f of attempts) await expect(f()).rejects.toThrow(InvalidInputError);
    expect((await a!.cache.getWithEventualConsistency("position:Q"))!.value).toBe(4);
    expect(await readEntry(a!.redis, a!.keyPrefix, "price:Q")).toBeNull();
    expect(a!.publisher.published.length).toBe(published);
  });

  it("a write based on an outdated version is refused with StaleVersionError", async () => {
    const [a] = makeRegions("cas", ["us-east"]);
    const v1 = await a!.cache.setWithEventualConsistency("price:V", 1);
    const v2 = await a!.cache.setWithEventualConsistency("price:V", 2, v1);
    await expect(a!.cache.setWithEventualConsistency("price:V", 3, v1)).rejects.toThrow(StaleVersionError);
    expect((await a!.cache.getWithEventualConsistency("price:V"))!).toMatchObject({ value: 2, version: v2 });
  });
});

describe("failure handling", () => {
  it("a failed publish keeps the local write, reports BackendUnavailableError, and propagateUpdate resends it", async () => {
    const [a, b] = makeRegions("pubfail", ["us-east", "eu-west"]);
    a!.publisher.failNext = true;
    await expect(a!.cache.setWithEventualConsistency("price:PF", 7)).rejects.toThrow(BackendUnavailableError);
    expect((await a!.cache.getWithEventualConsistency("price:PF"))!.value).toBe(7);
    expect(a!.publisher.published).toHaveLength(0);
    expect(await a!.cache.propagateUpdate("price:PF")).toBe(true);
    expect(await a!.cache.propagateUpdate("price:none")).toBe(false);
    expect(await applyRemoteUpdate(b!.redis, b!.keyPrefix, a!.publisher.published[0]!)).toBe("applied");
    expect((await b!.cache.getWithEventualConsistency("price:PF"))!.value).toBe(7);
  });

  it("a corrupt stored entry is reported on read and overwritten by the next merge", async () => {
    const [a, b] = makeRegions("corrupt", ["us-east", "eu-west"]);
    await a!.cache.setWithEventualConsistency("price:C", 3);
    await b!.redis.hset(`${b!.keyPrefix}e:price:C`, "rev", "4", "entry", "{garbage");
    await expect(b!.cache.getWithEventualConsistency("price:C")).rejects.toThrow(SerializationError);
    expect(await applyRemoteUpdate(b!.redis, b!.keyPrefix, a!.publisher.published[0]!)).toBe("applied");
    expect((await b!.cache.getWithEventualConsistency("price:C"))!.value).toBe(3);
  });
});
