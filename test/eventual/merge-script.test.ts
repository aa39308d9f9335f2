// The Lua merge (merge-script.ts) against the TypeScript one (resolveEntries + core CRDTs on the CAS path),
// on the real Redis, for every CRDT type: the same records merged in the same order leave identical bytes
// (entry, digest, history, bucket high-water) and outcomes; any order of the records, with duplicates,
// leaves the same state (commutative, idempotent); and mutants of the script are caught by the same check.
import {
  type AnyCrdt,
  type CrdtType,
  dotTag,
  emptyCrdt,
  type LWWRegister,
  type MVRegister,
  type ORSet,
  type PNCounter,
  VectorClock,
} from "@meridian/core";
import { LuaScript } from "@meridian/store";
import fc from "fast-check";
import { afterAll, describe, expect, it } from "vitest";
import { encodeEntry } from "../../packages/eventual/src/codec.js";
import { mergeEntries, mergeEntry, mergeEntryCas } from "../../packages/eventual/src/entry-store.js";
import { bucketKey, bucketOf, entryKey, historyKey } from "../../packages/eventual/src/keys.js";
import {
  MERGE_LIB,
  MERGE_SOURCE,
  type MergeCall,
  type MergeSettings,
  mergeArgs,
  mergeKeys,
  mergeReply,
  runMergeScript,
} from "../../packages/eventual/src/merge-script.js";
import { collectEntry } from "../../packages/eventual/src/orset-gc.js";
import { resolveEntries } from "../../packages/eventual/src/resolve.js";
import type { StoredEntry } from "../../packages/eventual/src/types.js";
import { cleanup, cleanupLater, redisFor, runId } from "./support/eventual-env.js";

const redis = redisFor();
const prefix = cleanupLater(redis, `test:${runId}:merge-lua:`);
const REGIONS = ["us-east", "eu-west", "ap-south~1"];
const TYPES: CrdtType[] = ["lww", "pncounter", "orset", "mvregister"];

// Values the script must reproduce: nested objects, escapes, floats, empty containers; all ASCII.
const valueArb = fc.oneof(
  fc.integer({ min: 0, max: 3 }),
  fc.constantFrom("a", "AAPL", 'q"uote', "back\\slash", "tab\there", "</x>", "", 0.1, -2.5e-7, 1e21, true),
  fc.constant(null),
  fc.record({ px: fc.integer({ min: 0, max: 2 }), sym: fc.constantFrom("x", "y"), tags: fc.constant([]) }),
  fc.constant({ a: { b: [1, { c: null }] } }),
);
const stepArb = fc.record({
  at: fc.nat(REGIONS.length - 1),
  from: fc.nat(REGIONS.length - 1),
  receive: fc.boolean(),
  value: valueArb,
  by: fc.oneof(fc.integer({ min: 0, max: 1000 }), fc.constantFrom(0.5, 0.1, 2 ** 53 - 1)),
  up: fc.boolean(),
  // 0: a tombstone-collection pass (OR-set keys), whose state reaches region `at` first.
  gc: fc.nat(4),
});
type Step = typeof stepArb extends fc.Arbitrary<infer S> ? S : never;

function write(type: CrdtType, crdt: AnyCrdt, s: Step, region: string, t: number, tag: string): AnyCrdt {
  const ts = { wallMs: t, logical: 0, node: region };
  switch (type) {
    case "lww":
      return (crdt as LWWRegister<unknown>).set(s.value, ts);
    case "pncounter":
      return s.up ? (crdt as PNCounter).increment(region, s.by) : (crdt as PNCounter).decrement(region, s.by);
    case "orset": {
      const set = crdt as ORSet<unknown>;
      return !s.up && set.has(s.value) ? set.remove(s.value) : set.add(s.value, tag);
    }
    default: {
      const reg = crdt as MVRegister<unknown>;
      return reg.set(s.value, reg.clock().increment(region));
    }
  }
}

/** A collection pass over all regions' copies: its state is a record too, so far merged into `into` only. */
function collect(states: Array<StoredEntry | null>, into: number, out: StoredEntry[]): void {
  const res = collectEntry(states, 0);
  if (!res) return;
  out.push(res.entry);
  states[into] = resolveEntries(states[into] ?? null, res.entry, 0).entry;
}

/** Three regions writing and exchanging states: every record is a state some region published. */
function records(type: CrdtType, steps: Step[]): StoredEntry[] {
  const states: Array<StoredEntry | null> = REGIONS.map(() => null);
  const out: StoredEntry[] = [];
  steps.forEach((s, t) => {
    const here = states[s.at] ?? null;
    if (type === "orset" && s.gc === 0) {
      collect(states, s.at, out);
      return;
    }
    if (s.receive) {
      const src = states[s.from];
      if (src) states[s.at] = resolveEntries(here, src, 0).entry;
      return;
    }
    const region = REGIONS[s.at]!;
    const clock = (here?.clock ?? VectorClock.empty()).increment(region);
    // OR-set tags are dots of the write's own clock counter, as the cache makes them.
    const tag = dotTag(region, clock.get(region), `${t}`)!;
    const crdt = write(type, here?.crdt ?? emptyCrdt(type), s, region, 1_000 + t, tag);
    const e: StoredEntry = {
      crdt,
      clock,
      hlc: { wallMs: 1_000 + t, logical: 0, node: region },
      region,
      updatedAtMs: 0,
    };
    states[s.at] = e;
    out.push(e);
  });
  return out;
}

/** Records of one type, and an order to deliver them in: any permutation, with duplicates. */
const caseArb = fc
  .record({
    type: fc.constantFrom(...TYPES),
    steps: fc.array(stepArb, { minLength: 1, maxLength: 14 }),
    picks: fc.array(fc.nat(), { maxLength: 20 }),
  })
  .map(({ type, steps, picks }) => {
    const recs = records(type, steps);
    return { type, recs, order: recs.length ? picks.map((p) => p % recs.length) : [] };
  });

/** OR-set histories long enough for tombstones to become stable, holding at least one collected state. */
const gcCaseArb = fc
  .record({
    steps: fc.array(stepArb, { minLength: 10, maxLength: 40 }),
    picks: fc.array(fc.nat(), { minLength: 5, maxLength: 30 }),
  })
  .map(({ steps, picks }) => {
    const recs = records("orset", steps);
    return { type: "orset" as const, recs, order: recs.length ? picks.map((p) => p % recs.length) : [] };
  })
  .filter((c) => c.recs.some((r) => "collected" in (r.crdt.toJSON().state as object)));

async function stored(p: string, key: string) {
  const hash = await redis.hgetall(entryKey(p, key));
  delete hash.rev;
  return {
    hash,
    history: await redis.lrange(historyKey(p, key), 0, -1),
    hwm: await redis.hget(bucketKey(p, bucketOf(key)), key),
  };
}

const settingsAt = (nowMs: number): MergeSettings => ({
  region: "eu-west",
  nowMs,
  historyLimit: 5,
  historyTtlMs: 60_000,
});

type Merge = (p: string, call: MergeCall, nowMs: number) => Promise<{ outcome: string; viaLua: boolean }>;

/** The script (or a mutant of it), the CAS path taking what it declines — as mergeEntry does. */
function luaMerge(script: LuaScript<string> | null): Merge {
  return async (p, call, nowMs) => {
    const s = settingsAt(nowMs);
    const reply = script
      ? mergeReply(call, await script.run(redis, mergeKeys(p, call.key), mergeArgs(call, s)))
      : await runMergeScript(redis, p, call, s);
    if (reply) return { outcome: reply.outcome, viaLua: true };
    const res = await mergeEntryCas(redis, p, call.key, s.region, call.remote, call.cause, casOpts(nowMs));
    return { outcome: res.outcome, viaLua: false };
  };
}
const casOpts = (nowMs: number) => ({ now: () => nowMs, historyLimit: 5, historyTtlMs: 60_000 });
const tsMerge: Merge = async (p, call, nowMs) => {
  const res = await mergeEntryCas(redis, p, call.key, "eu-west", call.remote, call.cause, casOpts(nowMs));
  return { outcome: res.outcome, viaLua: false };
};

let run = 0;
/** Delivers the records in `order` through the Lua merge and the TypeScript merge; both must agree after each. */
async function sameAsTypeScript(
  merge: Merge,
  c: { recs: StoredEntry[]; order: number[] },
): Promise<{ declined: number }> {
  const key = `k:${run++}`;
  const [lua, ts] = [`${prefix}lua:`, `${prefix}ts:`];
  let declined = 0;
  for (const [i, idx] of c.order.entries()) {
    const call = { key, remote: c.recs[idx]!, cause: i % 2 ? "anti-entropy" : "remote:UPDATE" };
    const a = await merge(lua, call, 5_000 + i);
    const b = await tsMerge(ts, call, 5_000 + i);
    if (!a.viaLua) declined++;
    expect(a.outcome).toBe(b.outcome);
    // After every merge, not only at the end: a later 'applied' would hide a wrong intermediate state.
    expect(await stored(lua, key)).toEqual(await stored(ts, key));
  }
  return { declined };
}

afterAll(async () => {
  await cleanup();
});

describe("Lua merge of whole entries", () => {
  it("writes exactly what the TypeScript merge writes, for every CRDT type, with outcomes equal", async () => {
    let declined = 0;
    let merges = 0;
    await fc.assert(
      fc.asyncProperty(caseArb, async (c) => {
        declined += (await sameAsTypeScript(luaMerge(null), c)).declined;
        merges += c.order.length;
      }),
      { numRuns: 150 },
    );
    // The generated states are ones the script handles: it must not have left the work to the CAS path.
    expect(merges).toBeGreaterThan(500);
    expect(declined).toBe(0);
  });

  it("writes exactly what the TypeScript merge writes for OR-sets with collected tombstones", async () => {
    let declined = 0;
    await fc.assert(
      fc.asyncProperty(gcCaseArb, async (c) => {
        declined += (await sameAsTypeScript(luaMerge(null), c)).declined;
      }),
      { numRuns: 100 },
    );
    expect(declined).toBe(0);
  });

  it("any delivery order with duplicates converges to the TypeScript fold (commutative, idempotent)", async () => {
    await fc.assert(
      fc.asyncProperty(
        caseArb.filter((c) => c.recs.length > 0),
        fc.array(fc.nat(), { maxLength: 12 }),
        async (c, extra) => {
          // Two deliveries of every record, each in its own order and with its own duplicates.
          const all = c.recs.map((_, i) => i);
          const first = [...all, ...c.order];
          const second = [...extra.map((x) => x % c.recs.length), ...all.reverse()];
          const keys = [`law:${run++}`, `law:${run++}`];
          for (const [k, order] of [first, second].entries()) {
            for (const idx of order) await mergeEntry(redis, prefix, keys[k]!, "eu-west", c.recs[idx]!, "x");
          }
          const folded = c.recs.reduce<StoredEntry | null>(
            (acc, r) => resolveEntries(acc, r, 0).entry,
            null,
          )!;
          const [a, b] = [await stored(prefix, keys[0]!), await stored(prefix, keys[1]!)];
          expect(a.hash.digest).toBe(b.hash.digest);
          const crdtOf = (h: Record<string, string>) => JSON.parse(h.entry!).crdt;
          expect(crdtOf(a.hash)).toEqual(crdtOf(b.hash));
          expect(crdtOf(a.hash)).toEqual(folded.crdt.toJSON());
          expect(JSON.parse(a.hash.entry!).clock).toEqual(folded.clock.toJSON());
        },
      ),
      { numRuns: 100 },
    );
  });

  it("declines what it cannot reproduce byte for byte, writing nothing; mergeEntry then takes the CAS path", async () => {
    const base = {
      clock: VectorClock.from({ "us-east": 1 }),
      hlc: { wallMs: 1, logical: 0, node: "us-east" },
    };
    const odd: StoredEntry[] = [
      {
        ...base,
        crdt: (emptyCrdt("pncounter") as PNCounter).increment('odd "node"', 1),
        region: "us-east",
        updatedAtMs: 0,
      },
      {
        ...base,
        crdt: (emptyCrdt("orset") as ORSet<unknown>).add("ünï", "t1"),
        region: "us-east",
        updatedAtMs: 0,
      },
      {
        ...base,
        crdt: (emptyCrdt("lww") as LWWRegister<unknown>).set({ 10: 1, 9: 2 }, base.hlc),
        region: "us-east",
        updatedAtMs: 0,
      },
    ];
    for (const [i, remote] of odd.entries()) {
      const call = { key: `odd:${i}`, remote, cause: "remote:UPDATE" };
      expect(await runMergeScript(redis, prefix, call, settingsAt(1))).toBeNull();
      expect(await redis.exists(entryKey(prefix, call.key))).toBe(0);
      expect((await mergeEntry(redis, prefix, call.key, "eu-west", remote, "remote:UPDATE")).outcome).toBe(
        "applied",
      );
    }
  });

  it("pipelined batch merges equal one-by-one merges; a bad call fails alone", async () => {
    const c = fc.sample(
      caseArb.filter((x) => x.recs.length > 2),
      { numRuns: 1, seed: 7 },
    )[0]!;
    const calls = c.recs.map((remote, i) => ({ key: `batch:${i % 3}`, remote, cause: "remote:UPDATE" }));
    const wrongType: MergeCall = {
      key: "batch:0",
      remote: { ...c.recs[0]!, crdt: emptyCrdt(c.type === "lww" ? "orset" : "lww") },
      cause: "remote:UPDATE",
    };
    const opts = casOpts(9_000);
    const results = await mergeEntries(redis, `${prefix}b1:`, "eu-west", [...calls, wrongType], opts);
    for (const call of calls)
      await mergeEntry(redis, `${prefix}b2:`, call.key, "eu-west", call.remote, call.cause, opts);
    expect(results.at(-1)).toBeInstanceOf(Error);
    expect(results.slice(0, -1).every((r) => !(r instanceof Error))).toBe(true);
    for (const k of ["batch:0", "batch:1", "batch:2"]) {
      expect(await stored(`${prefix}b1:`, k)).toEqual(await stored(`${prefix}b2:`, k));
    }
  });
});

// The script splits a stored entry with one anchored match and the JSON scanner only where that fails: both
// must find the same crdt, clock, hlc and region texts for any entry encodeEntry writes — values holding
// the tail's own words (',"clock":{'), braces and escapes in node ids and regions.
const SPLIT = new LuaScript<string[]>(
  "eventualTestEnvelopeSplit",
  `${MERGE_LIB}
local a, b = envelope(ARGV[1]), fields(ARGV[1])
return { a.crdt, b.crdt, a.clock, b.clock, a.hlc, b.hlc, a.region, b.region }`,
  0,
);
const nameArb = fc.oneof(
  fc.constantFrom("us-east", "a{b", "c}d", 'q"n', "b\\s", "é", ',"clock":{'),
  fc.string({ minLength: 1, maxLength: 8 }),
);
const trickyValueArb = fc.oneof(
  valueArb,
  fc.constant({ x: ',"clock":{},"hlc":{},"region":"r","updatedAtMs":1}' }),
  fc.constant({ clock: { a: 1 }, hlc: {}, region: "x", updatedAtMs: 2 }),
  fc.jsonValue({ maxDepth: 3 }),
);

describe("the script's entry split", () => {
  it("equals the JSON scanner's for any entry encodeEntry writes", async () => {
    await fc.assert(
      fc.asyncProperty(trickyValueArb, nameArb, nameArb, fc.nat(5), async (value, node, region, n) => {
        const ts = { wallMs: 1_000 + n, logical: n, node };
        const crdt = (emptyCrdt("lww") as LWWRegister<unknown>).set(value, ts);
        const text = encodeEntry({
          crdt,
          clock: VectorClock.from({ [node]: n + 1 }),
          hlc: ts,
          region,
          updatedAtMs: n,
        });
        const r = await SPLIT.run(redis, [], [text]);
        for (let i = 0; i < r.length; i += 2) expect(r[i]).toBe(r[i + 1]);
      }),
      { numRuns: 300 },
    );
  });
});

// Each mutant breaks one rule of the merge; the byte-for-byte comparison above must notice it.
const MUTANTS: Array<[string, CrdtType | "orset-gc" | null, string, string]> = [
  [
    "PN-counter join takes the minimum",
    "pncounter",
    "num(v) > num(out[k]) then out[k] = v",
    "num(v) < num(out[k]) then out[k] = v",
  ],
  ["LWW keeps the older write", "lww", "return o > 0 and a or b", "return o < 0 and a or b"],
  [
    "OR-set union drops the remote tags",
    "orset",
    "for _, m in ipairs({ a, b }) do",
    "for _, m in ipairs({ a }) do",
  ],
  [
    "OR-set merge lets a stale add back after its tombstone was collected",
    "orset-gc",
    "or (not holds(a.adds, e, tag) and covers(a.C, tag))",
    "",
  ],
  [
    "OR-set merge keeps only the stored collected frontier",
    "orset-gc",
    "local C = join(a.C, b.C)",
    "local C = a.C",
  ],
  [
    "MV-register keeps dominated siblings",
    "mvregister",
    "== 'before' then dominated = true",
    "== 'nothing' then dominated = true",
  ],
  ["a dominated update is applied", null, "if o == 'before' then return 'dominated' end", ""],
  ["the digest leaves out the clock", null, "rType .. '|' .. clockText(clock) .. '|'", "rType .. '||'"],
];

describe("mutants of the merge script are caught", () => {
  it.each(MUTANTS)("%s", async (name, type, from, to) => {
    expect(MERGE_SOURCE).toContain(from);
    const mutant = new LuaScript<string>(
      `eventualMergeMutant${MUTANTS.findIndex((m) => m[0] === name)}`,
      MERGE_SOURCE.replace(from, to),
      3,
    );
    const arb = type === "orset-gc" ? gcCaseArb : type ? caseArb.filter((c) => c.type === type) : caseArb;
    const result = await fc.check(
      fc.asyncProperty(arb, async (c) => {
        await sameAsTypeScript(luaMerge(mutant), c);
      }),
      { numRuns: 300, endOnFailure: true },
    );
    expect(result.failed).toBe(true);
  });
});
