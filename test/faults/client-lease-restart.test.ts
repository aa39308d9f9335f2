// Nemesis, critical L1: the holder's region Redis dies without the holder noticing (its host is gone: no
// FIN, connections just go silent) and an empty redis-server takes over the address while the holder's
// lease is still valid by its own clock. The new server knows no holder of the key, so a writer must not
// be acknowledged while that holder may still serve its copy: no read that starts after the write's
// acknowledgement may return the old value, during the partition or after it heals.
import { createMeridianClient, type MeridianClient } from "@meridian/client";
import { startRedisServer } from "@meridian/cluster";
import { connectRegionRedis } from "@meridian/strong";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MARK_AND_COLLECT, RENEW_LEASE } from "../../packages/client/src/critical/directory-scripts.js";
import { strongTestEnv } from "../support/strong-env.js";
import { startTcpProxy } from "../support/tcp-proxy.js";
import { recordFaultRow, writeFaultsMd } from "./support/faults-report.js";

const LEASE_MS = 5000;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

let server: Awaited<ReturnType<typeof startRedisServer>>;
let proxy: Awaited<ReturnType<typeof startTcpProxy>>;
let env: Awaited<ReturnType<typeof strongTestEnv>>;
const clients: MeridianClient[] = [];

beforeAll(async () => {
  server = await startRedisServer();
  proxy = await startTcpProxy(server.port);
  env = await strongTestEnv("l1restart", 6, connectRegionRedis(server.url));
});
afterAll(async () => {
  await Promise.all(clients.map((c) => c.close().catch(() => {})));
  await env?.cleanup().catch(() => {});
  await proxy?.close();
  await server?.stop();
  writeFaultsMd();
});

async function client(region: "us-east" | "eu-west", redisUrl: string) {
  const c = await createMeridianClient({
    region,
    redisUrl,
    commandTimeoutMs: 1000,
    critical: { pg: env.pool, keyPrefix: env.keyPrefix, leaseMs: LEASE_MS, invalidationTimeoutMs: 15_000 },
  });
  clients.push(c);
  return c;
}

/** A read bounded in time; an error or a timeout is an answer too (not a stale value). */
async function readOnce(
  c: MeridianClient,
  key: string,
): Promise<{ value?: unknown; source?: string; error?: string }> {
  const timeout = sleep(3000).then(() => ({ error: "timeout" }));
  const read = c.get("critical", key).then(
    (r) => ({ value: r.value, source: r.source }),
    (err: Error) => ({ error: err.name }),
  );
  return Promise.race([read, timeout]);
}

describe("nemesis: critical L1 holder cut off while its Redis restarts empty", () => {
  it("the write waits out the lost holder's lease; the holder never serves the old value after the ack", async () => {
    const t0 = performance.now();
    const key = "acct:l1-restart";
    const holder = await client("eu-west", proxy.url);
    const writer = await client("us-east", server.url);
    await writer.set("critical", key, "old");
    await holder.get("critical", key);
    expect((await holder.get("critical", key)).source).toBe("l1");

    proxy.partition();
    await server.restartEmpty();
    let ack = 0;
    let attempts = 0;
    const writeStart = performance.now();
    while (ack === 0) {
      attempts++;
      try {
        await writer.set("critical", key, "new");
        ack = performance.now();
      } catch (err) {
        if (performance.now() - writeStart > 30_000) throw err;
        await sleep(50); // the writer's connections are still reconnecting to the new server
      }
    }
    const holderServingAtAck = holder.servingCriticalFromL1();
    const reads: { value?: unknown; source?: string; error?: string }[] = [];
    // During the partition: what the holder answers (from L1 while its lease lasts, else a typed error).
    const partitionEnd = performance.now() + 1500;
    while (performance.now() < partitionEnd) {
      reads.push(await readOnce(holder, key));
      await sleep(100);
    }
    proxy.heal();
    const healedBy = performance.now() + 20_000;
    while (!reads.some((r) => r.value === "new")) {
      if (performance.now() > healedBy)
        throw new Error(`holder never read the new value: ${JSON.stringify(reads.slice(-3))}`);
      reads.push(await readOnce(holder, key));
      await sleep(100);
    }
    for (let i = 0; i < 5; i++) reads.push(await readOnce(holder, key));
    const stale = reads.filter((r) => r.value === "old");
    const stats = writer.stats().critical;
    console.log(
      `[l1-restart] write acked ${Math.round(ack - writeStart)} ms after the restart (${attempts} attempts, ` +
        `${stats.incarnationWaits} incarnation waits); holder serving from L1 at the ack: ${holderServingAtAck}; ` +
        `reads after the ack: ${JSON.stringify(reads)}`,
    );
    recordFaultRow({
      order: 15,
      id: "client-l1-redis-restart",
      scenario: "critical L1: holder cut off (no FIN) while its region's Redis restarts empty",
      ops: reads.length + 2,
      acknowledgedWrites: 2,
      lost: stale.length,
      linearizable: stale.length === 0 ? "yes" : "NO",
      seconds: (performance.now() - t0) / 1000,
      passed: stale.length === 0 && !holderServingAtAck,
      note:
        stale.length === 0
          ? `write acknowledged ${Math.round(ack - writeStart)} ms after the restart (one lease: ${LEASE_MS} ms); ${reads.filter((r) => r.error).length} holder reads failed typed during the partition, 0 stale`
          : `${stale.length} reads after the acknowledgement returned the old value`,
    });
    expect(stale).toEqual([]);
    expect(holderServingAtAck).toBe(false);
    expect(
      reads.filter(
        (r) =>
          r.error !== undefined && r.error !== "BackendUnavailableError" && r.error !== "StalenessBoundError",
      ),
    ).toEqual([]);
    expect(reads.at(-1)).toMatchObject({ value: "new" });
  });
});

describe("the lease directory on a new Redis incarnation", () => {
  it("a lease restored from a snapshot counts as lapsed; writers wait one lease on the new incarnation", async () => {
    const r = new Redis(server.url, { db: 15 });
    r.on("error", () => {}); // the restart below drops the connection
    try {
      const keys = ["t:n:node1", "t:inc"];
      const renew = async () => ((await RENEW_LEASE.run(r, keys, ["inc1", 60_000])) as number[])[0];
      expect(await renew()).toBe(0); // first lease
      expect(await renew()).toBe(1);
      await r.save(); // the lease key (60 s left) goes into the snapshot
      await server.restartFromSnapshot();
      await r.ping().catch(() => r.ping());
      expect(await r.pttl("t:n:node1")).toBeGreaterThan(0); // the key came back ...
      expect(await renew()).toBe(0); // ... but was granted by another incarnation: the holder drops its copies
      const mark = () =>
        MARK_AND_COLLECT.run(r, ["t:h:k", "t:w:k", "t:inc2"], ["writer", 30_000, "t:n:", 300]) as Promise<
          number[]
        >;
      const first = await mark();
      expect(first).toHaveLength(1);
      expect(first[0]).toBeGreaterThan(250); // quarantine: ~one lease left
      await sleep(first[0]! + 20);
      expect(await mark()).toEqual([0]);
    } finally {
      r.disconnect();
    }
  });
});
