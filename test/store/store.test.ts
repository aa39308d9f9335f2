// Redis and PostgreSQL round-trips through @meridian/store against the real servers.
import { randomUUID } from "node:crypto";
import { BackendUnavailableError, configFromEnv } from "@meridian/core";
import { checkPg, checkRedis, createPgPool, createRedis, deleteKeysWithPrefix } from "@meridian/store";
import { afterAll, describe, expect, it } from "vitest";

const config = configFromEnv();
const runId = randomUUID().slice(0, 8);

describe("store: Redis", () => {
  const prefix = `test:store:${runId}:`;
  const redis = createRedis(config.redisUrl, { db: 3, keyPrefix: prefix });
  const raw = createRedis(config.redisUrl, { db: 3 });

  afterAll(async () => {
    const keys = await raw.keys(`${prefix}*`);
    if (keys.length > 0) await raw.del(...keys);
    redis.disconnect();
    raw.disconnect();
  });

  it("answers the health check and round-trips a value under its key prefix and DB", async () => {
    await checkRedis(redis);
    const value = JSON.stringify({ price: 101.25, at: Date.now() });
    await redis.set("k1", value);
    expect(await redis.get("k1")).toBe(value);
    // The prefix and DB really isolate: the raw client sees the key only under the full name in DB 3.
    expect(await raw.get(`${prefix}k1`)).toBe(value);
    expect(await raw.get("k1")).toBeNull();
    const info = await raw.client("INFO");
    expect(info).toMatch(/db=3/);
  });

  it("deletes every key under a prefix, through a client with or without its own keyPrefix", async () => {
    for (let i = 0; i < 25; i++) await redis.set(`gone:a:${i}`, "x");
    await redis.set("gone:b:1", "x");
    await redis.set("kept", "x");
    expect(await deleteKeysWithPrefix(redis, "gone:a:")).toBe(25);
    expect(await raw.exists(`${prefix}gone:b:1`, `${prefix}kept`)).toBe(2);
    expect(await deleteKeysWithPrefix(raw, `${prefix}gone:`)).toBe(1);
    expect(await raw.exists(`${prefix}kept`)).toBe(1);
  });

  it("throws BackendUnavailableError when Redis is unreachable", async () => {
    const dead = createRedis("redis://127.0.0.1:1", { db: 0 });
    dead.on("error", () => {});
    await expect(checkRedis(dead)).rejects.toBeInstanceOf(BackendUnavailableError);
    dead.disconnect();
  });
});

describe("store: PostgreSQL", () => {
  const schema = `store_test_${runId.replace(/-/g, "")}`;
  const admin = createPgPool(config.pgUrl);
  const pool = createPgPool(config.pgUrl, { searchPath: schema, max: 2 });

  afterAll(async () => {
    await pool.end();
    await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    await admin.end();
  });

  it("answers the health check and round-trips a row in its own schema", async () => {
    await checkPg(pool);
    await admin.query(`CREATE SCHEMA ${schema}`);
    await pool.query("CREATE TABLE kv (key text PRIMARY KEY, value jsonb NOT NULL, version bigint NOT NULL)");
    await pool.query("INSERT INTO kv VALUES ($1, $2, 1)", ["acct:1", { balance: 250 }]);
    await pool.query("UPDATE kv SET value = $2, version = version + 1 WHERE key = $1", [
      "acct:1",
      { balance: 300 },
    ]);
    const res = await pool.query("SELECT value, version FROM kv WHERE key = $1", ["acct:1"]);
    expect(res.rows).toEqual([{ value: { balance: 300 }, version: "2" }]);
    // The table lives in the per-run schema, not in public.
    const where = await admin.query(
      "SELECT table_schema FROM information_schema.tables WHERE table_name = 'kv' AND table_schema = $1",
      [schema],
    );
    expect(where.rowCount).toBe(1);
  });

  it("throws BackendUnavailableError when PostgreSQL is unreachable", async () => {
    const dead = createPgPool("postgres://postgres@127.0.0.1:1/postgres");
    await expect(checkPg(dead)).rejects.toBeInstanceOf(BackendUnavailableError);
    await dead.end();
  });
});
