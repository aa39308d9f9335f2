// Property: one write-through call carrying many keys (a commit group's) gives each key the outcome and the
// Redis state a model of the per-key rule says — our marker or not, the copy's version and generation, the
// fence high-water mark — independently of the other keys in the call.
import { RegionCache } from "@meridian/strong";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { strongTestEnv } from "../support/strong-env.js";

let env: Awaited<ReturnType<typeof strongTestEnv>>;
beforeAll(async () => {
  env = await strongTestEnv("wtbatch");
});
afterAll(() => env.cleanup());

const WRITER = "writer-1";
const HOLDERS = ["h0", "h1"] as const;

/** One key before the write-through, and what the group committed for it. */
interface KeyCase {
  marker: "none" | "ours" | "other";
  /** The cached copy's version and whether it is of the server's current generation. */
  copy: { version: number; currentGen: boolean } | undefined;
  highWater: { token: number; holder: string } | undefined;
  write: { version: number; fence: { token: number; holder: string } | undefined };
}

const fenceArb = fc.record({
  token: fc.integer({ min: 1, max: 4 }),
  holder: fc.constantFrom(...HOLDERS),
});
const keyCaseArb: fc.Arbitrary<KeyCase> = fc.record({
  marker: fc.constantFrom("none", "ours", "other"),
  copy: fc.option(fc.record({ version: fc.integer({ min: 0, max: 5 }), currentGen: fc.boolean() }), {
    nil: undefined,
  }),
  highWater: fc.option(fenceArb, { nil: undefined }),
  write: fc.record({
    version: fc.integer({ min: 1, max: 6 }),
    fence: fc.option(fenceArb, { nil: undefined }),
  }),
});

/**
 * The per-key rule: outcome; whether the copy then holds the written version, survives or is gone; whether
 * the marker is left; and whether the write's fence became the high-water mark (a fence that passes is
 * recorded before the version check).
 */
function model(c: KeyCase) {
  if (c.marker !== "ours") {
    const copy = c.marker === "none" ? "gone" : "kept";
    return { outcome: "superseded", copy, markerLeft: c.marker === "other", fenceRecorded: false };
  }
  const f = c.write.fence;
  const hw = c.highWater;
  if (f && hw && (f.token < hw.token || (f.token === hw.token && f.holder !== hw.holder))) {
    return { outcome: "staleFence", copy: "kept", markerLeft: false, fenceRecorded: false };
  }
  const current = c.copy?.currentGen ? c.copy.version : -1;
  const fenceRecorded = f !== undefined;
  if (c.write.version <= current)
    return { outcome: "olderVersion", copy: "kept", markerLeft: false, fenceRecorded };
  return { outcome: "set", copy: "written", markerLeft: false, fenceRecorded };
}

describe("batched write-through", () => {
  it("each key of one call gets the outcome and state of the per-key rule", async () => {
    const redis = env.redis["us-east"];
    const prefix = `${env.keyPrefix}wt:`;
    const region = new RegionCache("us-east", redis, prefix);
    const runId = /run_id:([0-9a-f]+)/.exec(await redis.info("server"))![1]!;
    await redis.hset(`${prefix}gen`, "rid", runId, "gen", "7");
    let run = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(keyCaseArb, { minLength: 1, maxLength: 24 }), async (cases) => {
        const keys = cases.map((_, i) => `r${run}:k${i}`);
        run++;
        for (const [i, c] of cases.entries()) {
          const k = keys[i]!;
          if (c.copy) {
            const g = c.copy.currentGen ? "7" : "6";
            await redis.hset(`${prefix}e:${k}`, "v", '"old"', "ver", c.copy.version, "at", 0, "g", g);
          }
          if (c.marker !== "none") await redis.set(`${prefix}p:${k}`, c.marker === "ours" ? WRITER : "other");
          if (c.highWater) await redis.set(`${prefix}f:${k}`, `${c.highWater.token}|${c.highWater.holder}`);
        }
        const changed = new Map(
          cases.map((c, i) => [
            keys[i]!,
            {
              json: `"new${i}"`,
              version: c.write.version,
              ...(c.write.fence ? { fence: c.write.fence } : {}),
            },
          ]),
        );
        const outcomes = await region.finishWrite(changed, WRITER, 0);
        for (const [i, c] of cases.entries()) {
          const k = keys[i]!;
          const want = model(c);
          expect(outcomes.get(k), `key ${i}: ${JSON.stringify(c)}`).toBe(want.outcome);
          const entry = await redis.hmget(`${prefix}e:${k}`, "v", "ver");
          if (want.copy === "written") expect(entry).toEqual([`"new${i}"`, String(c.write.version)]);
          else if (want.copy === "gone") expect(entry).toEqual([null, null]);
          else expect(entry[0]).toBe(c.copy ? '"old"' : null);
          expect(await redis.exists(`${prefix}p:${k}`)).toBe(want.markerLeft ? 1 : 0);
          const hw = want.fenceRecorded ? c.write.fence : c.highWater;
          expect(await redis.get(`${prefix}f:${k}`)).toBe(hw ? `${hw.token}|${hw.holder}` : null);
        }
      }),
      { numRuns: 40 },
    );
  });
});
