// LuaScript against real Redis: EVALSHA with the NOSCRIPT fallback, declared keys under ioredis'
// keyPrefix, pipelines, and typed errors for misuse. SCRIPT FLUSH runs on a private redis-server child
// (never on the shared server, whose script cache other runs rely on).
import { type ChildProcess, spawn } from "node:child_process";
import { createHash, randomUUID } from "node:crypto";
import { createServer } from "node:net";
import { InvalidInputError } from "@meridian/core";
import { createRedis, LuaScript, type Redis } from "@meridian/store";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const runId = randomUUID().slice(0, 8);
const INCR_BY = new LuaScript<number>(
  `testIncrBy_${runId}`,
  "return redis.call('INCRBY', KEYS[1], ARGV[1])",
  1,
);

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe("LuaScript", () => {
  let server: ChildProcess;
  let redis: Redis;
  let raw: Redis;

  beforeAll(async () => {
    const port = await freePort();
    server = spawn("redis-server", ["--port", String(port), "--save", "", "--appendonly", "no"], {
      stdio: "ignore",
    });
    redis = createRedis(`redis://127.0.0.1:${port}`, { db: 0, keyPrefix: "p:" });
    raw = createRedis(`redis://127.0.0.1:${port}`, { db: 0 });
    const deadline = Date.now() + 10_000;
    while ((await raw.ping().catch(() => "")) !== "PONG") {
      if (Date.now() > deadline) throw new Error("private redis-server did not start");
      await new Promise((r) => setTimeout(r, 50));
    }
  });

  afterAll(() => {
    redis?.disconnect();
    raw?.disconnect();
    server?.kill("SIGKILL");
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

  it("refuses a wrong key count and a second script under the same name with InvalidInputError", async () => {
    await expect(INCR_BY.run(redis, [], [1])).rejects.toBeInstanceOf(InvalidInputError);
    expect(() => new LuaScript(INCR_BY.name, "return 0", 1)).toThrow(InvalidInputError);
    expect(new LuaScript(INCR_BY.name, INCR_BY.source, 1).command).toBe(INCR_BY.command);
  });
});
