// LuaScript against real Redis: EVALSHA with the NOSCRIPT fallback, declared keys under ioredis'
// keyPrefix, pipelines, ioredis auto-pipelining, and typed errors for misuse. SCRIPT FLUSH runs on a
// private redis-server child (never on the shared server, whose script cache other runs rely on).
import { createHash, randomUUID } from "node:crypto";
import { type RedisServerProcess, startRedisServer } from "@meridian/cluster";
import { InvalidInputError } from "@meridian/core";
import { createRedis, LuaScript, type Redis } from "@meridian/store";
import fc from "fast-check";
import { Redis as IORedis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const runId = randomUUID().slice(0, 8);
const INCR_BY = new LuaScript<number>(
  `testIncrBy_${runId}`,
  "return redis.call('INCRBY', KEYS[1], ARGV[1])",
  1,
);

describe("LuaScript", () => {
  let server: RedisServerProcess;
  let redis: Redis;
  let raw: Redis;

  beforeAll(async () => {
    server = await startRedisServer();
    redis = createRedis(server.url, { db: 0, keyPrefix: "p:" });
    raw = createRedis(server.url, { db: 0 });
  });

  afterAll(async () => {
    redis?.disconnect();
    raw?.disconnect();
    await server?.stop();
  });

  it("runs by EVALSHA, keeps working after SCRIPT FLUSH (NOSCRIPT → resent), keys get the client's prefix", async () => {
    expect(await INCR_BY.run(redis, ["n"], [2])).toBe(2);
    await raw.script("FLUSH");
    expect(await INCR_BY.run(redis, ["n"], [3])).toBe(5);
    expect(await raw.get("p:n")).toBe("5");
    const [loaded] = (await raw.script(
      "EXISTS",
      createHash("sha1").update(INCR_BY.source).digest("hex"),
    )) as number[];
    expect(loaded).toBe(1);
  });

  it("queues on a pipeline of a client it was defined on", async () => {
    INCR_BY.defineOn(redis);
    const pipe = redis.pipeline();
    INCR_BY.queue(pipe, ["m"], [1]);
    INCR_BY.queue(pipe, ["m"], [10]);
    const res = (await pipe.exec()) ?? [];
    expect(res.map(([err, v]) => (err ? err.message : v))).toEqual([1, 11]);
  });

  it("with a variable key count, each call (alone or pipelined) declares its keys, all prefixed", async () => {
    const incrAll = new LuaScript<number[]>(
      `testIncrAll_${runId}`,
      "local out = {} for i, k in ipairs(KEYS) do out[i] = redis.call('INCRBY', k, ARGV[1]) end return out",
      "variable",
    );
    expect(await incrAll.run(redis, ["va", "vb", "vc"], [2])).toEqual([2, 2, 2]);
    incrAll.defineOn(redis);
    const pipe = redis.pipeline();
    incrAll.queue(pipe, ["va"], [1]);
    incrAll.queue(pipe, ["vb", "vd"], [3]);
    const res = (await pipe.exec()) ?? [];
    expect(res.map(([err, v]) => (err ? err.message : v))).toEqual([[3], [5, 3]]);
    expect(await raw.mget("p:va", "p:vb", "p:vc", "p:vd")).toEqual(["3", "5", "2", "3"]);
    await expect(incrAll.run(redis, [], [1])).rejects.toBeInstanceOf(InvalidInputError);
  });

  it("a variable-key script takes any number of keys per call, prefixed, run and pipelined", async () => {
    const SUM = new LuaScript<number>(
      `testSumKeys_${runId}`,
      "local s = 0 for i = 1, #KEYS do redis.call('INCRBY', KEYS[i], ARGV[i]) s = s + tonumber(ARGV[i]) end return s",
      "variable",
    );
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.integer({ min: 0, max: 99 }), { minLength: 1, maxLength: 40 }),
        async (ns) => {
          const keys = ns.map((_, i) => `v:${runId}:${i}`);
          await raw.del(...keys.map((k) => `p:${k}`));
          expect(await SUM.run(redis, keys, ns)).toBe(ns.reduce((a, b) => a + b, 0));
          SUM.defineOn(redis);
          const pipe = redis.pipeline();
          SUM.queue(pipe, keys.slice(0, 1), ns.slice(0, 1));
          SUM.queue(pipe, keys, ns);
          const res = (await pipe.exec()) ?? [];
          expect(res.map(([err, v]) => (err ? err.message : v))).toEqual([
            ns[0],
            ns.reduce((a, b) => a + b, 0),
          ]);
          const stored = await raw.mget(...keys.map((k) => `p:${k}`));
          expect(stored.map(Number)).toEqual(ns.map((n, i) => (i === 0 ? 3 * n : 2 * n)));
        },
      ),
      { numRuns: 20 },
    );
  });

  it("refuses a wrong key count and a second script under the same name with InvalidInputError", async () => {
    await expect(INCR_BY.run(redis, [], [1])).rejects.toBeInstanceOf(InvalidInputError);
    expect(() => new LuaScript(INCR_BY.name, "return 0", 1)).toThrow(InvalidInputError);
    expect(new LuaScript(INCR_BY.name, INCR_BY.source, 1).command).toBe(INCR_BY.command);
  });

  it("with ioredis auto-pipelining, scripts made before and after the turn's pipeline all answer in order", async () => {
    // The turn's auto-pipeline is made by the first command; a script first used later in the same turn
    // (a new batch size, a script module loaded late) is unknown to that pipeline. Unguarded, ioredis then
    // misaligns the pipeline's replies and throws outside any promise, ending the process.
    const auto = new IORedis(server.url, { enableAutoPipelining: true, keyPrefix: `auto:${runId}:` });
    const uncaught: unknown[] = [];
    const onUncaught = (err: unknown) => void uncaught.push(err);
    process.on("uncaughtException", onUncaught);
    try {
      await auto.set("warm", "1");
      for (let turn = 0; turn < 3; turn++) {
        const late = new LuaScript<number>(
          `testLateIncrBy_${runId}_${turn}`,
          `return redis.call('INCRBY', KEYS[1], ARGV[1]) + ${turn * 1000}`,
          1,
        );
        const [before, first, second, known, after] = await Promise.all([
          auto.incrby(`c${turn}`, 1),
          late.run(auto, [`l${turn}`], [5]),
          late.run(auto, [`l${turn}`], [7]),
          INCR_BY.run(auto, [`k${turn}`], [2]),
          auto.incrby(`c${turn}`, 1),
        ]);
        expect([before, first, second, known, after]).toEqual([1, 5 + turn * 1000, 12 + turn * 1000, 2, 2]);
      }
      await new Promise((r) => setImmediate(r));
      expect(uncaught).toEqual([]);
    } finally {
      process.off("uncaughtException", onUncaught);
      auto.disconnect();
    }
  });
});
