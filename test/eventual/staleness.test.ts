// Every read says how fresh it is; a read that cannot meet its bound is refreshed from the peer regions'
// L2 (read-repair), and fails with StalenessBoundError when even that cannot meet it.
import { InvalidInputError, StalenessBoundError } from "@meridian/core";
import { applyRemoteUpdate, type ReadInfo } from "@meridian/eventual";
import { createRedis } from "@meridian/store";
import fc from "fast-check";
import { afterAll, describe, expect, it } from "vitest";
import { cleanup, makeRegions } from "./support/eventual-env.js";

afterAll(cleanup);

describe("read freshness", () => {
  it("reports ageMs from the newest update's HLC time, flags reads past the window, and calls onRead", async () => {
    let now = 5_000_000;
    const infos: ReadInfo[] = [];
    const [a, b] = makeRegions("age", ["us-east", "eu-west"], {
      cache: { now: () => now, maxAgeMs: 1_000, onRead: (i) => infos.push(i) },
    });
    await a!.cache.setWithEventualConsistency("price:F", 10);
    now += 300;
    await applyRemoteUpdate(b!.redis, b!.keyPrefix, a!.publisher.published.at(-1)!);
    now += 200;
    const fresh = await b!.cache.getWithEventualConsistency("price:F");
    expect(fresh).toMatchObject({
      value: 10,
      region: "eu-west",
      writtenBy: "us-east",
      ageMs: 500,
      stale: false,
    });
    now += 1_000;
    const old = await b!.cache.getWithEventualConsistency("price:F");
    expect(old).toMatchObject({ ageMs: 1_500, stale: true });
    expect(await b!.cache.getWithEventualConsistency("price:none")).toBeNull();
    expect(infos.map((i) => [i.key, i.found, i.ageMs, i.stale])).toEqual([
      ["price:F", true, 500, false],
      ["price:F", true, 1_500, true],
      ["price:none", false, null, false],
    ]);
  });

  it("a read with maxAgeMs refreshes from peers and then reports its new age", async () => {
    let now = 9_000_000;
    const infos: ReadInfo[] = [];
    const [a, b] = makeRegions("bound", ["us-east", "eu-west"], {
      cache: { now: () => now, onRead: (i) => infos.push(i) },
    });
    await a!.cache.setWithEventualConsistency("price:G", 1);
    await applyRemoteUpdate(b!.redis, b!.keyPrefix, a!.publisher.published.at(-1)!);
    await a!.cache.setWithEventualConsistency("price:G", 2); // eu-west has not received this one
    now += 10_000;
    const read = await b!.cache.getWithEventualConsistency("price:G", { maxAgeMs: 100 });
    expect(read).toMatchObject({ value: 2, refreshed: true, ageMs: 0 });
    expect(infos.at(-1)).toMatchObject({ refreshed: true, ageMs: 0 });
  });

  it("a miss under a bound is refreshed from peers (the key may not have arrived yet)", async () => {
    const [a, b] = makeRegions("missbound", ["us-east", "eu-west"]);
    await a!.cache.setWithEventualConsistency("price:M", 8);
    expect(await b!.cache.getWithEventualConsistency("price:M")).toBeNull(); // unbounded: just a miss
    expect(await b!.cache.getWithEventualConsistency("price:M", { maxAgeMs: 1_000 })).toMatchObject({
      value: 8,
      refreshed: true,
    });
    expect(await b!.cache.getWithEventualConsistency("price:nowhere", { maxAgeMs: 1_000 })).toBeNull();
  });

  it("options that are not an object (e.g. a bare `maxAgeMs` number from untyped JS) are refused with InvalidInputError, never read unbounded", async () => {
    let now = 1_000;
    const infos: ReadInfo[] = [];
    const [solo] = makeRegions("oldshape", ["us-east"], {
      cache: { now: () => now, peers: [], onRead: (i) => infos.push(i) },
    });
    await solo!.cache.setWithEventualConsistency("price:OLD", 1);
    now += 5_000; // the copy is 5 s old: a bounded read of 1 s must not be served from it
    const untyped = solo!.cache.getWithEventualConsistency.bind(solo!.cache) as (
      key: string,
      opts: unknown,
    ) => Promise<unknown>;
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(fc.nat(), fc.double(), fc.string(), fc.boolean(), fc.constant(null), fc.array(fc.nat())),
        async (opts) => {
          await expect(untyped("price:OLD", opts)).rejects.toBeInstanceOf(InvalidInputError);
        },
      ),
      { numRuns: 50 },
    );
    expect(infos).toEqual([]); // refused before any read happened
  });

  it("minVersion gives read-your-writes across regions: the read pulls the write from the writer's region", async () => {
    const [a, b] = makeRegions("ryw", ["us-east", "eu-west"]);
    const version = await a!.cache.setWithEventualConsistency("position:R", { op: "increment", by: 3 });
    const read = await b!.cache.getWithEventualConsistency("position:R", { minVersion: version });
    expect(read).toMatchObject({ value: 3, version, refreshed: true });
  });

  it("fails with StalenessBoundError when there is nobody to refresh from, or a peer is unreachable", async () => {
    let now = 1_000;
    const infos: ReadInfo[] = [];
    const [solo] = makeRegions("nopeers", ["us-east"], {
      cache: { now: () => now, peers: [], onRead: (i) => infos.push(i) },
    });
    await solo!.cache.setWithEventualConsistency("price:H", 1);
    now += 5_000;
    await expect(solo!.cache.getWithEventualConsistency("price:H", { maxAgeMs: 1_000 })).rejects.toThrow(
      StalenessBoundError,
    );
    expect(infos.at(-1)).toMatchObject({ key: "price:H", failed: true, ageMs: 5_000, refreshed: false });
    // without a bound the same read succeeds, just reporting its age
    expect((await solo!.cache.getWithEventualConsistency("price:H"))!.ageMs).toBe(5_000);

    const deadPeer = createRedis("redis://127.0.0.1:1", {});
    deadPeer.on("error", () => {});
    const [c] = makeRegions("deadpeer", ["us-east"], {
      cache: { now: () => now, peers: [{ region: "eu-west", redis: deadPeer, keyPrefix: "x:" }] },
    });
    await c!.cache.setWithEventualConsistency("price:H", 1);
    now += 5_000;
    const err = await c!.cache
      .getWithEventualConsistency("price:H", { maxAgeMs: 1_000 })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StalenessBoundError);
    expect((err as StalenessBoundError).details).toMatchObject({ unreachablePeers: 1 });
    deadPeer.disconnect();
  });
});
