// The Lua LWW set against the CAS path it replaces: for the same batches of sets (several writer nodes,
// the same keys, candidate timestamps behind or ahead of the stored ones) interleaved with remote states
// merged in, the Redis hash (entry bytes, digest), the history list, the bucket high-water and the update
// each path publishes come out identical.
import { type HlcTimestamp, LWWRegister, VectorClock } from "@meridian/core";
import fc from "fast-check";
import { afterAll, describe, expect, it } from "vitest";
import {
  type BatchDeps,
  type BatchItem,
  type BatchOutcome,
  writeLwwSets,
  writeWithCas,
} from "../../packages/eventual/src/batch-write.js";
import { encodeEntry, updateFromEntry } from "../../packages/eventual/src/codec.js";
import { mergeEntry, type Snapshot } from "../../packages/eventual/src/entry-store.js";
import { bucketKey, bucketOf, entryKey, historyKey } from "../../packages/eventual/src/keys.js";
import type { StoredEntry } from "../../packages/eventual/src/types.js";
import { cleanup, cleanupLater, redisFor, runId } from "./support/eventual-env.js";

const redis = redisFor();
const prefix = cleanupLater(redis, `test:${runId}:lww-set:`);
const REGION = "eu-west";
const ASCII_NODES = ["eu-west#1", "eu-west#2", 'odd "node"/\\:,\t'];
const KEYS = ["price:a", "price:b", "price:c"];

type Action =
  | { kind: "sets"; node: string; ts: HlcTimestamp; sets: { key: string; value: unknown }[] }
  | { kind: "remote"; key: string; entry: StoredEntry };

const hlcArb = fc.record({
  wallMs: fc.integer({ min: 1_000, max: 1_006 }),
  logical: fc.integer({ min: 0, max: 3 }),
  node: fc.constantFrom(REGION, ...ASCII_NODES),
});
const valueArb = fc.oneof(
  fc.jsonValue(),
  fc.dictionary(fc.constantFrom("10", "9", "a", "B", "é"), fc.oneof(fc.integer(), fc.string())),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.string({ unit: "binary" }),
);
const setsArb = fc
  .record({
    node: fc.constantFrom(...ASCII_NODES, "zürich#1"),
    ts: hlcArb,
    sets: fc.uniqueArray(fc.record({ key: fc.constantFrom(...KEYS), value: valueArb }), {
      minLength: 1,
      maxLength: 3,
      selector: (s) => s.key,
    }),
  })
  .map((a): Action => ({ kind: "sets", ...a }));
const remoteArb = fc
  .record({
    key: fc.constantFrom(...KEYS),
    value: valueArb,
    ts: hlcArb,
    clock: fc.dictionary(fc.constantFrom(...ASCII_NODES, "ap-south"), fc.integer({ min: 1, max: 20 })),
  })
  .map(
    ({ key, value, ts, clock }): Action => ({
      kind: "remote",
      key,
      entry: {
        crdt: LWWRegister.empty().set(value, ts),
        clock: VectorClock.from(clock),
        hlc: ts,
        region: "ap-south",
        updatedAtMs: 0,
      },
    }),
  );

/** Batch deps whose context does what the cache's writeContext does, from the action's candidate ts. */
function depsFor(ts: HlcTimestamp, now: () => number): BatchDeps {
  return {
    region: REGION,
    history: { now },
    now,
    counterTs: () => ts,
    context: (snap: Snapshot, node: string) => {
      const base = snap.entry?.clock ?? VectorClock.empty();
      const own = Math.max(base.get(node), snap.ownHighWater) + 1;
      const clock = base.merge(VectorClock.from({ [node]: own }));
      const s = snap.entry?.hlc;
      const later =
        !s || ts.wallMs !== s.wallMs
          ? !s || ts.wallMs > s.wallMs
          : ts.logical !== s.logical
            ? ts.logical > s.logical
            : ts.node > s.node;
      const at = later ? ts : { wallMs: s!.wallMs, logical: s!.logical + 1, node: REGION };
      return { region: node, ts: at, clock, tag: "unused" };
    },
  };
}

async function stored(p: string, key: string) {
  const hash = await redis.hgetall(entryKey(p, key));
  delete hash.rev;
  return {
    hash,
    history: await redis.lrange(historyKey(p, key), 0, -1),
    hwm: await redis.hget(bucketKey(p, bucketOf(key)), key),
  };
}

const published = (out: BatchOutcome) =>
  [...out.results]
    .sort(([a], [b]) => (a < b ? -1 : 1)) // publish order across keys is free; per key there is one
    .map(([key, r]) => {
      if (!("value" in r)) return { key, error: String(r.error) };
      return { entry: encodeEntry(r.value), update: updateFromEntry(key, r.value, "UPDATE", REGION, 0) };
    });

afterAll(async () => {
  await cleanup();
});

describe("Lua LWW set", () => {
  it("stores and publishes exactly what the CAS path does, for any sets, writers and remote merges", async () => {
    let run = 0;
    let clockMs = 5_000;
    const now = () => clockMs;
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.oneof(setsArb, setsArb, remoteArb), { maxLength: 10 }),
        async (actions) => {
          const [lua, cas] = [`${prefix}${run}:lua:`, `${prefix}${run}:cas:`];
          run++;
          const nonAscii = new Set<string>(); // keys whose clock holds a non-ASCII node
          for (const a of actions) {
            clockMs += 3;
            if (a.kind === "remote") {
              for (const p of [lua, cas])
                await mergeEntry(redis, p, a.key, REGION, a.entry, "remote:UPDATE", { now });
              continue;
            }
            const items: BatchItem[] = a.sets.map((s) => ({
              key: s.key,
              type: "lww",
              fold: { kind: "apply", values: [s.value] },
            }));
            const writer = (p: string) => ({ node: a.node, guard: { key: `${p}incarnation`, value: "1" } });
            await Promise.all([lua, cas].map((p) => redis.set(`${p}incarnation`, "1")));
            const deps = depsFor(a.ts, now);
            const outLua: BatchOutcome = { results: new Map(), redo: [] };
            const outCas: BatchOutcome = { results: new Map(), redo: [] };
            const handedBack = await writeLwwSets(redis, lua, writer(lua), items, deps, outLua);
            await writeWithCas(redis, lua, writer(lua), handedBack, deps, outLua);
            await writeWithCas(redis, cas, writer(cas), items, deps, outCas);
            // Only non-ASCII node ids are handed back (JavaScript and Lua order such ids differently).
            if (/[^ -~\t]/.test(a.node)) for (const s of a.sets) nonAscii.add(s.key);
            const expected = a.sets.map((s) => s.key).filter((k) => nonAscii.has(k));
            expect(handedBack.map((i) => i.key)).toEqual(expected);
            expect(published(outLua)).toEqual(published(outCas));
            expect(outLua.redo).toEqual([]);
          }
          for (const key of KEYS) expect(await stored(lua, key)).toEqual(await stored(cas, key));
        },
      ),
      { numRuns: 120 },
    );
  });

  it("a lost incarnation writes nothing and hands every set back to be redone", async () => {
    const p = `${prefix}gone:`;
    await redis.set(`${p}incarnation`, "2");
    const out: BatchOutcome = { results: new Map(), redo: [] };
    const items: BatchItem[] = [{ key: "price:x", type: "lww", fold: { kind: "apply", values: [1] } }];
    const writer = { node: "eu-west#1", guard: { key: `${p}incarnation`, value: "1" } };
    const ts = { wallMs: 1, logical: 0, node: REGION };
    expect(await writeLwwSets(redis, p, writer, items, depsFor(ts, Date.now), out)).toEqual([]);
    expect(out.redo).toEqual(items);
    expect(await redis.exists(entryKey(p, "price:x"))).toBe(0);
  });

  it("another CRDT type stored under the key is handed back to the CAS path, unchanged", async () => {
    const p = `${prefix}type:`;
    await redis.hset(
      entryKey(p, "price:y"),
      "entry",
      '{"crdt":{"type":"pncounter","state":{"p":{},"n":{}}}}',
    );
    const before = await stored(p, "price:y");
    const out: BatchOutcome = { results: new Map(), redo: [] };
    const items: BatchItem[] = [{ key: "price:y", type: "lww", fold: { kind: "apply", values: [1] } }];
    const writer = { node: "eu-west#1", guard: { key: `${p}incarnation`, value: "1" } };
    await redis.set(`${p}incarnation`, "1");
    const ts = { wallMs: 1, logical: 0, node: REGION };
    expect(await writeLwwSets(redis, p, writer, items, depsFor(ts, Date.now), out)).toEqual(items);
    expect(out.results.size).toBe(0);
    expect(await stored(p, "price:y")).toEqual(before);
  });
});
