// rollback(key, version): restores the overridden state and propagates the restoration (kind ROLLBACK)
// as a normal update that the other regions apply like any other.
import { InvalidInputError } from "@meridian/core";
import { applyRemoteUpdate, digestOf, readEntry, readHistory } from "@meridian/eventual";
import { afterAll, describe, expect, it } from "vitest";
import { cleanup, makeRegions } from "./support/eventual-env.js";

afterAll(cleanup);

describe("rollback", () => {
  it("restores a price a remote merge overrode, and every region converges on the restored value", async () => {
    const [a, b, c] = makeRegions("rb-price", ["us-east", "eu-west", "ap-south"]);
    const good = await a!.cache.setWithEventualConsistency("price:ACME", 101.25);
    for (const r of [b!, c!]) await applyRemoteUpdate(r.redis, r.keyPrefix, a!.publisher.published.at(-1)!);
    // eu-west publishes a bad price that replaces the good one everywhere
    await b!.cache.setWithEventualConsistency("price:ACME", 9999);
    const badUpdate = b!.publisher.published.at(-1)!;
    for (const r of [a!, c!])
      expect(await applyRemoteUpdate(r.redis, r.keyPrefix, badUpdate)).toBe("applied");
    expect((await a!.cache.getWithEventualConsistency("price:ACME"))!.value).toBe(9999);
    const history = await readHistory(a!.redis, a!.keyPrefix, "price:ACME");
    expect(history[0]!.before.clock.toJSON()).toEqual(good);

    const restoredVersion = await a!.cache.rollback("price:ACME", good);
    const rbUpdate = a!.publisher.published.at(-1)!;
    expect(rbUpdate.kind).toBe("ROLLBACK");
    expect(rbUpdate.vectorClock).toEqual(restoredVersion);
    expect((await a!.cache.getWithEventualConsistency("price:ACME"))!.value).toBe(101.25);

    // The restoration travels like a normal update; a replay of the bad update is now dominated.
    for (const r of [b!, c!]) expect(await applyRemoteUpdate(r.redis, r.keyPrefix, rbUpdate)).toBe("applied");
    for (const r of [b!, c!])
      expect(await applyRemoteUpdate(r.redis, r.keyPrefix, badUpdate)).toBe("dominated");
    const digests = await Promise.all(
      [a!, b!, c!].map(async (r) => digestOf((await readEntry(r.redis, r.keyPrefix, "price:ACME"))!)),
    );
    expect(new Set(digests).size).toBe(1);
    for (const r of [a!, b!, c!])
      expect((await r.cache.getWithEventualConsistency("price:ACME"))!.value).toBe(101.25);
  });

  it("a rolled-back counter keeps increments that were concurrent with the rollback", async () => {
    const [a, b] = makeRegions("rb-counter", ["us-east", "eu-west"]);
    const v1 = await a!.cache.setWithEventualConsistency("position:ACME", { op: "increment", by: 100 });
    await applyRemoteUpdate(b!.redis, b!.keyPrefix, a!.publisher.published.at(-1)!);
    await a!.cache.setWithEventualConsistency("position:ACME", { op: "increment", by: 50 }); // mistaken fill
    await applyRemoteUpdate(b!.redis, b!.keyPrefix, a!.publisher.published.at(-1)!);
    // eu-west books +7 while us-east rolls back the mistaken +50 (concurrently)
    await b!.cache.setWithEventualConsistency("position:ACME", { op: "increment", by: 7 });
    await a!.cache.rollback("position:ACME", v1);
    await applyRemoteUpdate(b!.redis, b!.keyPrefix, a!.publisher.published.at(-1)!);
    await applyRemoteUpdate(a!.redis, a!.keyPrefix, b!.publisher.published.at(-1)!);
    for (const r of [a!, b!])
      expect((await r.cache.getWithEventualConsistency("position:ACME"))!.value).toBe(107);
  });

  it("restores an OR-set's membership", async () => {
    const [a] = makeRegions("rb-set", ["us-east"]);
    await a!.cache.setWithEventualConsistency("watch:w", { op: "add", element: "AAPL" });
    const v = await a!.cache.setWithEventualConsistency("watch:w", { op: "add", element: "MSFT" });
    await a!.cache.setWithEventualConsistency("watch:w", { op: "remove", element: "AAPL" });
    await a!.cache.rollback("watch:w", v);
    expect((await a!.cache.getWithEventualConsistency("watch:w"))!.value).toEqual(["AAPL", "MSFT"]);
  });

  it("an unknown version, or one past the history limit, is refused and changes nothing", async () => {
    const [a] = makeRegions("rb-window", ["us-east"], { cache: { historyLimit: 2 } });
    const v1 = await a!.cache.setWithEventualConsistency("price:W", 1);
    for (const p of [2, 3, 4]) await a!.cache.setWithEventualConsistency("price:W", p);
    await expect(a!.cache.rollback("price:W", v1)).rejects.toThrow(InvalidInputError);
    await expect(a!.cache.rollback("price:W", { "us-east": 77 })).rejects.toThrow(InvalidInputError);
    expect((await a!.cache.getWithEventualConsistency("price:W"))!.value).toBe(4);
    expect(await readHistory(a!.redis, a!.keyPrefix, "price:W")).toHaveLength(2);
  });

  it("historyLimit 0 keeps no history (and so nothing to roll back to)", async () => {
    const [a] = makeRegions("rb-off", ["us-east"], { cache: { historyLimit: 0 } });
    const v1 = await a!.cache.setWithEventualConsistency("price:OFF", 1);
    await a!.cache.setWithEventualConsistency("price:OFF", 2);
    expect(await readHistory(a!.redis, a!.keyPrefix, "price:OFF")).toEqual([]);
    await expect(a!.cache.rollback("price:OFF", v1)).rejects.toThrow(InvalidInputError);
  });
});
