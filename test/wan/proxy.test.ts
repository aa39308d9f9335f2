// Real Redis and PostgreSQL behind the WAN layer: a round trip costs both one-way delays, a cut link makes
// calls fail within their bound, and healing restores service.
import { configFromEnv } from "@meridian/core";
import { WanNetwork } from "@meridian/wan";
import { Redis } from "ioredis";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { timed } from "./support/wan-env.js";

const config = configFromEnv();
const ONE_WAY_MS = 50;
let network: WanNetwork;
const clients: { close(): unknown }[] = [];

beforeAll(async () => {
  network = new WanNetwork({ regions: ["near", "far"], latencyMs: () => ONE_WAY_MS });
  const redisUrl = new URL(config.redisUrl);
  const pgUrl = new URL(config.pgUrl);
  await network.addService("redis:far", "far", {
    host: redisUrl.hostname,
    port: Number(redisUrl.port || 6379),
  });
  await network.addService("pg:far", "far", { host: pgUrl.hostname, port: Number(pgUrl.port || 5432) });
});
afterAll(async () => {
  for (const c of clients) await c.close();
  await network.stop();
});

function redisFrom(region: string, commandTimeout: number): Redis {
  const at = network.address(region, "redis:far");
  const r = new Redis({ ...at, commandTimeout, maxRetriesPerRequest: 1, connectTimeout: 1000 });
  r.on("error", () => {});
  clients.push({ close: () => r.disconnect() });
  return r;
}

describe("WAN layer in front of real servers", () => {
  it("a Redis GET across a 50 ms link takes at least the round trip; locally it does not pay it", async () => {
    const far = redisFrom("near", 2000);
    const key = `wan-test:${process.pid}:${Date.now()}`;
    await far.set(key, "v", "PX", 60_000);
    const remote = await timed(() => far.get(key));
    expect(remote.value).toBe("v");
    expect(remote.ms).toBeGreaterThanOrEqual(2 * ONE_WAY_MS - 2);
    const local = await timed(() => redisFrom("far", 2000).get(key));
    expect(local.value).toBe("v");
    expect(local.ms).toBeLessThan(2 * ONE_WAY_MS); // no round trip across the link
  });

  it("PostgreSQL across the link pays the round trip per query", async () => {
    const at = network.address("near", "pg:far");
    const url = new URL(config.pgUrl);
    url.hostname = at.host;
    url.port = String(at.port);
    const pool = new pg.Pool({ connectionString: url.toString(), max: 1, connectionTimeoutMillis: 5000 });
    pool.on("error", () => {});
    clients.push({ close: () => pool.end() });
    await pool.query("SELECT 1");
    const q = await timed(() => pool.query<{ n: number }>("SELECT 41 + 1 AS n"));
    expect(q.value.rows[0]!.n).toBe(42);
    expect(q.ms).toBeGreaterThanOrEqual(2 * ONE_WAY_MS - 2);
  });

  it("a partition fails calls within their timeout, on open and new connections; heal restores", async () => {
    const open = redisFrom("near", 800);
    expect(await open.ping()).toBe("PONG");
    network.partition("far");
    const stalled = await timed(() => open.ping().catch((e: unknown) => e));
    expect(stalled.value).toBeInstanceOf(Error);
    expect(String(stalled.value)).toMatch(/timed out/i);
    expect(stalled.ms).toBeLessThan(2500);
    const fresh = redisFrom("near", 800);
    const refused = await timed(() => fresh.ping().catch((e: unknown) => e));
    expect(refused.value).toBeInstanceOf(Error);
    expect(refused.ms).toBeLessThan(2500);
    expect(network.partitions()).toEqual(["far"]);
    network.heal("far");
    expect(network.partitions()).toEqual([]);
    let pong: unknown;
    for (let i = 0; i < 40 && pong !== "PONG"; i++) {
      pong = await fresh.ping().catch(() => undefined);
      if (pong !== "PONG") await new Promise((r) => setTimeout(r, 100));
    }
    expect(pong).toBe("PONG");
    expect(await open.ping()).toBe("PONG");
  });
});
