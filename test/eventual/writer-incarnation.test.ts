// A region whose Redis loses its data (a private redis-server restarted empty) must not reuse vector-clock
// counters it already issued: its next writes are counted under a new writer incarnation, so the other
// regions merge them instead of dropping them as dominated, and no acknowledged increment is lost.
import { randomUUID } from "node:crypto";
import { type RedisServerProcess, startRedisServer } from "@meridian/cluster";
import { configFromEnv } from "@meridian/core";
import {
  applyRemoteUpdate,
  EventualConsistencyCache,
  pgWriterIncarnations,
  readEntry,
} from "@meridian/eventual";
import { Redis } from "ioredis";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cleanup, makeRegions, policy, RecordingPublisher } from "./support/eventual-env.js";

let server: RedisServerProcess;
let admin: pg.Pool;
let pool: pg.Pool;
let privateRedis: Redis;
const schema = `ev_incarnation_${randomUUID().slice(0, 8)}`;

beforeAll(async () => {
  server = await startRedisServer();
  privateRedis = new Redis(server.url, { maxRetriesPerRequest: 2, commandTimeout: 2_000 });
  privateRedis.on("error", () => {});
  const url = configFromEnv().pgUrl;
  admin = new pg.Pool({ connectionString: url, max: 1 });
  await admin.query(`CREATE SCHEMA ${schema}`);
  pool = new pg.Pool({ connectionString: url, max: 2, options: `-c search_path=${schema}` });
  pool.on("error", () => {});
});

afterAll(async () => {
  privateRedis?.disconnect();
  await server?.stop();
  await cleanup();
  await pool?.end();
  await admin?.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  await admin?.end();
});

/** (key, node, counter) a region issued: the entries of its own nodes in the clocks it published. */
function issued(published: { key: string; vectorClock: Record<string, number> }[], region: string): string[] {
  const own = new Set<string>();
  for (const u of published) {
    for (const [node, c] of Object.entries(u.vectorClock)) {
      if (node === region || node.startsWith(`${region}~`)) own.add(`${u.key}|${node}:${c}`);
    }
  }
  return [...own];
}

describe("writer incarnations", () => {
  it("after a Redis restart a region's writes are merged elsewhere, never dropped as dominated", async () => {
    const [remote] = makeRegions("incarnation", ["eu-west"]);
    const publisher = new RecordingPublisher();
    const east = new EventualConsistencyCache(privateRedis, publisher, {
      region: "us-east",
      keyPrefix: "ev:",
      crdtTypeFor: policy,
      incarnations: pgWriterIncarnations(pool),
    });
    const ship = async () => {
      const outcomes: string[] = [];
      for (const u of publisher.published.splice(0)) {
        shipped.push(u);
        outcomes.push(await applyRemoteUpdate(remote!.redis, remote!.keyPrefix, u));
      }
      return outcomes;
    };
    const shipped: (typeof publisher.published)[number][] = [];

    let acknowledged = 0;
    for (let i = 1; i <= 3; i++) {
      await east.setWithEventualConsistency("position:P", { op: "increment", by: i });
      acknowledged += i;
      await east.setWithEventualConsistency("price:X", { px: i });
    }
    await ship();
    const before = issued(shipped, "us-east");

    await server.restartEmpty(); // us-east's Redis loses every entry and counter

    await east.setWithEventualConsistency("position:P", { op: "increment", by: 10 });
    acknowledged += 10;
    await east.setWithEventualConsistency("price:X", { px: 99 });
    const outcomes = await ship();
    expect(outcomes).not.toContain("dominated");
    expect(outcomes).not.toContain("duplicate");

    const after = issued(shipped, "us-east").filter((p) => !before.includes(p));
    expect(after.length).toBeGreaterThan(0);
    // Every write after the restart carries a (key, node, counter) never issued before it.
    expect(after.length).toBe(2);
    const pos = await readEntry(remote!.redis, remote!.keyPrefix, "position:P");
    const price = await readEntry(remote!.redis, remote!.keyPrefix, "price:X");
    expect(pos!.crdt.value()).toBe(acknowledged);
    expect(price!.crdt.value()).toEqual({ px: 99 });
  });
});
