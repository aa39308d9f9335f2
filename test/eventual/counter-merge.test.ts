// The Lua PN-counter write against the TypeScript one: for the same local ops and remote merges, the
// Redis hash (entry bytes, digest), the history list and the bucket high-water come out identical.
// And a hot counter key under many concurrent writers ends at exactly the sum of acknowledged increments.
import {
  compareHlc,
  emptyCrdt,
  type HlcTimestamp,
  InvalidInputError,
  LWWRegister,
  PNCounter,
  VectorClock,
} from "@meridian/core";
import fc from "fast-check";
import { afterAll, describe, expect, it } from "vitest";
import { applyCounterOp } from "../../packages/eventual/src/counter-merge.js";
import { applyWrite } from "../../packages/eventual/src/crdt-write.js";
import { casUpdate, mergeEntry } from "../../packages/eventual/src/entry-store.js";
import { bucketKey, bucketOf, entryKey, historyKey } from "../../packages/eventual/src/keys.js";
import type { StoredEntry } from "../../packages/eventual/src/types.js";
import { cleanup, cleanupLater, makeRegions, redisFor, runId } from "./support/eventual-env.js";

const redis = redisFor();
const prefix = cleanupLater(redis, `test:${runId}:counter:`);
const NODES = ["eu-west", "us~1", 'odd "node"/\\:,\t'];

type Action =
  | { kind: "op"; node: string; side: "increment" | "decrement"; by: number; ts: HlcTimestamp }
  | { kind: "remote"; entry: StoredEntry };

const hlcArb = fc.record({
  wallMs: fc.integer({ min: 1_000, max: 1_010 }),
  logical: fc.integer({ min: 0, max: 3 }),
  node: fc.constantFrom(...NODES),
});
const countsArb = fc.dictionary(fc.constantFrom(...NODES), fc.integer({ min: 1, max: 2 ** 40 }));
const remoteArb = fc
  .record({
    p: countsArb,
    n: countsArb,
    clock: fc.dictionary(fc.constantFrom(...NODES, "ap-south"), fc.integer({ min: 1, max: 20 })),
    hlc: hlcArb,
  })
  .map(
    ({ p, n, clock, hlc }): Action => ({
      kind: "remote",
      entry: {
        crdt: PNCounter.fromState({ p, n }),
        clock: VectorClock.from(clock),
        hlc,
        region: "ap-south",
        updatedAtMs: 0,
      },
    }),
  );
const opArb = fc
  .record({
    node: fc.constantFrom(...NODES),
    side: fc.constantFrom("increment" as const, "decrement" as const),
    by: fc.oneof(fc.integer({ min: 0, max: 100 }), fc.integer({ min: 0, max: 2 ** 45 })),
    ts: hlcArb,
  })
  .map((o): Action => ({ kind: "op", ...o }));

/** The TypeScript path of a local op: what EventualConsistencyCache did for every counter write. */
async function tsOp(prefix: string, key: string, a: Extract<Action, { kind: "op" }>, now: () => number) {
  await casUpdate(
    redis,
    prefix,
    key,
    a.node,
    (snap) => {
      const base = snap.entry?.clock ?? VectorClock.empty();
      const own = Math.max(base.get(a.node), snap.ownHighWater) + 1;
      const clock = base.merge(VectorClock.from({ [a.node]: own }));
      const stored = snap.entry?.hlc;
      const ts =
        stored && compareHlc(a.ts, stored) <= 0
          ? { wallMs: stored.wallMs, logical: stored.logical + 1, node: "eu-west" }
          : a.ts;
      const crdt = applyWrite(
        "pncounter",
        snap.entry?.crdt ?? emptyCrdt("pncounter"),
        { op: a.side, by: a.by },
        {
          region: a.node,
          ts,
          clock,
          tag: "unused",
        },
      );
      const entry = { crdt, clock, hlc: ts, region: "eu-west", updatedAtMs: now() };
      return { step: { entry, historyCause: "local-write" }, result: null };
    },
    { now },
  );
}

async function stored(prefix: string, key: string) {
  const hash = await redis.hgetall(entryKey(prefix, key));
  delete hash.rev;
  return {
    hash,
    history: await redis.lrange(historyKey(prefix, key), 0, -1),
    hwm: await redis.hget(bucketKey(prefix, bucketOf(key)), key),
  };
}

afterAll(async () => {
  await cleanup();
});

describe("Lua PN-counter write", () => {
  it("stores exactly what the TypeScript CRDT path stores, for any ops and remote merges", async () => {
    let run = 0;
    let clockMs = 5_000;
    const now = () => clockMs;
    const luaPrefix = `${prefix}lua:`;
    const tsPrefix = `${prefix}ts:`;
    await fc.assert(
      fc.asyncProperty(fc.array(fc.oneof(opArb, opArb, remoteArb), { maxLength: 12 }), async (actions) => {
        const key = `position:${run++}`;
        let model = PNCounter.empty();
        for (const a of actions) {
          clockMs += 7;
          if (a.kind === "remote") {
            for (const prefix of [luaPrefix, tsPrefix]) {
              await mergeEntry(redis, prefix, key, "eu-west", a.entry, "remote:UPDATE", { now });
            }
            continue;
          }
          const written = await applyCounterOp(
            redis,
            luaPrefix,
            key,
            { node: a.node, region: "eu-west", side: a.side, by: a.by, ts: a.ts },
            { now },
          );
          expect(written).not.toBeNull();
          await tsOp(tsPrefix, key, a, now);
          model = a.side === "increment" ? model.increment(a.node, a.by) : model.decrement(a.node, a.by);
        }
        const [lua, ts] = [await stored(luaPrefix, key), await stored(tsPrefix, key)];
        expect(lua).toEqual(ts);
        if (actions.every((a) => a.kind === "op") && actions.length > 0) {
          expect(JSON.parse(lua.hash.entry!).crdt).toEqual(model.toJSON());
        }
      }),
      { numRuns: 150 },
    );
  });

  it("hands a state it cannot reproduce byte for byte back to the CAS path, changing nothing", async () => {
    const fractional: StoredEntry = {
      crdt: PNCounter.empty().increment("us-east", 0.5),
      clock: VectorClock.from({ "us-east": 1 }),
      hlc: { wallMs: 1, logical: 0, node: "us-east" },
      region: "us-east",
      updatedAtMs: 0,
    };
    await mergeEntry(redis, prefix, "fallback:f", "eu-west", fractional, "remote:UPDATE");
    const before = await stored(prefix, "fallback:f");
    const op = { node: "eu-west", region: "eu-west", side: "increment" as const, by: 1 };
    const ts = { wallMs: 2, logical: 0, node: "eu-west" };
    expect(await applyCounterOp(redis, prefix, "fallback:f", { ...op, ts })).toBeNull();
    expect(await stored(prefix, "fallback:f")).toEqual(before);
  });
});

describe("counter writes the script refuses go the CAS way", () => {
  it("fractional amounts keep exact sums; a negative amount or a non-counter entry is InvalidInputError, nothing written", async () => {
    const [region] = makeRegions("fallback", ["eu-west"]);
    const cache = region!.cache;
    await cache.setWithEventualConsistency("position:F", { op: "increment", by: 0.5 });
    await cache.setWithEventualConsistency("position:F", { op: "increment", by: 2 });
    await cache.setWithEventualConsistency("position:F", { op: "decrement", by: 0.25 });
    expect((await cache.getWithEventualConsistency("position:F"))?.value).toBe(2.25);

    await expect(cache.setWithEventualConsistency("position:F", { op: "increment", by: -1 })).rejects.toThrow(
      InvalidInputError,
    );
    const lww: StoredEntry = {
      crdt: LWWRegister.empty().set("not a counter", { wallMs: 1, logical: 0, node: "us-east" }),
      clock: VectorClock.from({ "us-east": 1 }),
      hlc: { wallMs: 1, logical: 0, node: "us-east" },
      region: "us-east",
      updatedAtMs: 0,
    };
    await mergeEntry(region!.redis, region!.keyPrefix, "position:L", "eu-west", lww, "remote:UPDATE");
    const before = await region!.redis.hgetall(entryKey(region!.keyPrefix, "position:L"));
    await expect(cache.setWithEventualConsistency("position:L", { op: "increment" })).rejects.toThrow(
      InvalidInputError,
    );
    expect(await region!.redis.hgetall(entryKey(region!.keyPrefix, "position:L"))).toEqual(before);
  });
});

describe("hot PN-counter key", () => {
  it("64 writers in flight, uncoalesced: the value is exactly the sum of acknowledged increments and decrements", async () => {
    const [region] = makeRegions("hot", ["eu-west"], { cache: { coalesce: false } });
    const key = "position:HOT";
    const amounts = fc.sample(fc.integer({ min: -50, max: 100 }), 3_000);
    let acked = 0;
    let next = 0;
    const worker = async () => {
      while (next < amounts.length) {
        const by = amounts[next++]!;
        const op = by >= 0 ? { op: "increment" as const, by } : { op: "decrement" as const, by: -by };
        await region!.cache.setWithEventualConsistency(key, op);
        acked += by;
      }
    };
    await Promise.all(Array.from({ length: 64 }, worker));
    const read = await region!.cache.getWithEventualConsistency(key);
    expect(read?.value).toBe(acked);
    expect(acked).toBe(amounts.reduce((s, x) => s + x, 0));
    // One clock tick per write: no write was lost or counted twice.
    expect(Object.values(read!.version).reduce((s, x) => s + x, 0)).toBe(amounts.length);
    expect(region!.publisher.published).toHaveLength(amounts.length);
  });
});
