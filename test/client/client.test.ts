// @meridian/client against real Redis and PostgreSQL: the three classes through one client, L1 hits,
// invalidation of critical copies in all five regions, important copies following other regions' writes,
// re-validation after a tracking gap, typed errors for bad input.
import { BackendUnavailableError, InvalidInputError, REGIONS } from "@meridian/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { clientTestEnv, sleep } from "./support/client-env.js";

let env: Awaited<ReturnType<typeof clientTestEnv>>;
beforeAll(async () => {
  env = await clientTestEnv("basic");
});
afterAll(() => env.cleanup());

/** Polls `check`; a read failing fast while a connection comes back counts as "not yet". */
async function eventually(check: () => Promise<boolean>, withinMs: number): Promise<number> {
  const start = performance.now();
  const attempt = () =>
    check().catch((err) => {
      if (err instanceof BackendUnavailableError) return false;
      throw err;
    });
  while (!(await attempt())) {
    if (performance.now() - start > withinMs) throw new Error(`not within ${withinMs} ms`);
    await sleep(5);
  }
  return performance.now() - start;
}

describe("critical", () => {
  it("a second read is an L1 hit; a write in one region drops the copies in all five before it resolves", async () => {
    const clients = await Promise.all(REGIONS.map((r) => env.client(r)));
    await clients[0]!.set("critical", "acct:1", { balance: 100 });
    for (const c of clients) {
      const first = await c.get("critical", "acct:1");
      expect(first.source).not.toBe("l1");
      const second = await c.get("critical", "acct:1");
      expect(second).toMatchObject({ value: { balance: 100 }, source: "l1", stale: false });
    }
    const w = await clients[3]!.set("critical", "acct:1", { balance: 90 });
    // No waiting: the write resolved only after every holder acked.
    for (const c of clients) {
      const r = await c.get("critical", "acct:1");
      expect(r.value).toEqual({ balance: 90 });
      expect(r.version).toBe(w.version);
      expect(r.source).not.toBe("l1");
    }
    expect(clients[0]!.stats().critical.hits).toBeGreaterThanOrEqual(1);
  });

  it("L1 values are frozen: a caller cannot change another caller's copy", async () => {
    const c = await env.client("eu-west");
    await c.set("critical", "acct:frozen", { balance: 1 });
    await c.get("critical", "acct:frozen");
    const r = await c.get<{ balance: number }>("critical", "acct:frozen");
    expect(() => {
      (r.value as { balance: number }).balance = 2;
    }).toThrow(TypeError);
  });

  it("a session carries read-your-writes to another region", async () => {
    const a = await env.client("us-east");
    const b = await env.client("ap-south");
    await a.set("critical", "acct:s", 1);
    await b.get("critical", "acct:s");
    const s = a.session();
    const w = await a.set("critical", "acct:s", 2, { session: s });
    const r = await b.get("critical", "acct:s", { session: b.session(s.encode()) });
    expect(r.version).toBeGreaterThanOrEqual(w.version as number);
    expect(r.value).toBe(2);
  });
});

describe("important", () => {
  it("after a write in one region every region's L1 returns the new value (convergence measured)", async () => {
    const clients = await Promise.all(REGIONS.map((r) => env.client(r)));
    await clients[0]!.set("important", "md:X", 1);
    for (const c of clients) {
      await eventually(async () => (await c.get("important", "md:X")).value === 1, 5000);
      expect((await c.get("important", "md:X")).source).toBe("l1");
    }
    await clients[2]!.set("important", "md:X", 2);
    const waits = await Promise.all(
      clients.map((c) => eventually(async () => (await c.get("important", "md:X")).value === 2, 5000)),
    );
    console.log(`important convergence into every region's L1: max ${Math.max(...waits).toFixed(1)} ms`);
    for (const c of clients) expect((await c.get("important", "md:X")).source).toBe("l1");
  });

  it.each([[["tracked"]], [["tracking"]], [["tracked", "tracking"]]] as const)(
    "a client whose %j connection(s) were killed re-validates instead of serving what it missed",
    async (roles) => {
      const reader = await env.client("us-west");
      const writer = await env.client("eu-west");
      const key = `md:gap:${roles.join("+")}`;
      await writer.set("important", key, "old");
      await eventually(async () => (await reader.get("important", key)).value === "old", 5000);
      expect((await reader.get("important", key)).source).toBe("l1");
      // Cut the reader's invalidation stream (its tracked data connection and/or the subscriber it
      // redirects to), write while it is down, then let it reconnect.
      const admin = env.redis["us-west"];
      const names = roles.map((r) => reader.connectionName(r));
      const ids = String(await admin.client("LIST"))
        .split("\n")
        .filter((l) => names.some((n) => l.includes(` name=${n} `)))
        .map((l) => /\bid=(\d+)/.exec(l)?.[1]);
      expect(ids).toHaveLength(roles.length);
      for (const id of ids) await admin.client("KILL", "ID", id!);
      await writer.set("important", key, "new");
      await eventually(async () => (await reader.get("important", key)).value === "new", 5000);
      expect(reader.stats().important.trackingGaps).toBeGreaterThan(0);
      // Tracking is back: the next change arrives as an invalidation again.
      await eventually(async () => (await reader.get("important", key)).source === "l1", 5000);
      await writer.set("important", key, "newer");
      await eventually(async () => (await reader.get("important", key)).value === "newer", 5000);
    },
  );

  it("a session never reads backwards across regions", async () => {
    const a = await env.client("us-east");
    const b = await env.client("ap-northeast", {
      important: {
        keyPrefix: env.importantPrefix("ap-northeast"),
        publisher: { publish: async () => {} }, // b's own writes are not needed here
        peers: [
          { region: "us-east", redis: env.redis["us-east"], keyPrefix: env.importantPrefix("us-east") },
        ],
      },
    });
    const s = a.session();
    // Written in us-east with a publisher that the session does not wait for: b may not have it yet.
    await a.set("important", "pos:S", 5, { session: s });
    const r = await b.get("important", "pos:S", { session: b.session(s.encode()) });
    expect(r.value).toBe(5);
  });
});

describe("cacheable", () => {
  it("serves L1 within its TTL and lets a copy go after l1TtlMs", async () => {
    const a = await env.client("us-east", { cacheable: { keyPrefix: env.keyPrefix, l1TtlMs: 200 } });
    const b = await env.client("us-east", { cacheable: { keyPrefix: env.keyPrefix, l1TtlMs: 200 } });
    await a.set("cacheable", "pref:1", "dark", { ttlMs: 5000 });
    expect((await a.get("cacheable", "pref:1")).source).toBe("l1");
    expect((await b.get("cacheable", "pref:1")).value).toBe("dark");
    await a.set("cacheable", "pref:1", "light", { ttlMs: 5000 });
    expect((await b.get("cacheable", "pref:1")).value).toBe("dark"); // weak: b's copy is still young
    await sleep(250);
    expect((await b.get("cacheable", "pref:1")).value).toBe("light");
  });
});

describe("bad input and lost Redis", () => {
  it("bad keys, values, classes and tokens are typed errors, and nothing is cached", async () => {
    const c = await env.client("us-east", { limits: { maxValueBytes: 64 } });
    await expect(c.get("critical", "")).rejects.toBeInstanceOf(InvalidInputError);
    await expect(c.get("nope" as never, "k")).rejects.toBeInstanceOf(InvalidInputError);
    await expect(c.set("critical", "k".repeat(2000), 1)).rejects.toBeInstanceOf(InvalidInputError);
    await expect(c.set("important", "big", "x".repeat(100))).rejects.toBeInstanceOf(InvalidInputError);
    await expect(c.set("cacheable", "nan", Number.NaN)).rejects.toBeInstanceOf(InvalidInputError);
    await expect(c.set("cacheable", "ttl", 1, { ttlMs: -1 })).rejects.toBeInstanceOf(InvalidInputError);
    expect(() => c.session("%%%")).toThrow(InvalidInputError);
    const s = c.stats();
    expect(s.critical.entries + s.important.entries + s.cacheable.entries).toBe(0);
  });

  it("losing Redis: critical reads fail fast with a typed error; cacheable may serve stale if allowed", async () => {
    const { spawn } = await import("node:child_process");
    const port = 20000 + Math.floor(Math.random() * 20000);
    const server = spawn("redis-server", ["--port", String(port), "--save", "", "--appendonly", "no"], {
      stdio: "ignore",
    });
    try {
      await sleep(300);
      const c = await env.client("us-east", {
        redisUrl: `redis://127.0.0.1:${port}`,
        critical: { pg: env.pool, keyPrefix: env.keyPrefix, leaseMs: 600 },
        commandTimeoutMs: 300,
      });
      await c.set("critical", "acct:lost", 1);
      await c.set("cacheable", "pref:lost", "v", { ttlMs: 60_000 });
      await c.get("critical", "acct:lost");
      expect((await c.get("critical", "acct:lost")).source).toBe("l1");
      server.kill("SIGKILL");
      await sleep(700); // > one lease: the node can no longer have a live lease
      const t0 = performance.now();
      await expect(c.get("critical", "acct:lost")).rejects.toBeInstanceOf(BackendUnavailableError);
      expect(performance.now() - t0).toBeLessThan(1000);
      await sleep(600); // past the cacheable L1 TTL
      await expect(c.get("cacheable", "pref:lost")).rejects.toBeInstanceOf(BackendUnavailableError);
      const stale = await c.get("cacheable", "pref:lost", { allowStale: true });
      expect(stale).toMatchObject({ value: "v", stale: true, source: "l1" });
      // Without allowStale the same read is a typed failure, never a silent stale value.
      await expect(c.get("cacheable", "pref:lost")).rejects.toBeInstanceOf(BackendUnavailableError);
    } finally {
      server.kill("SIGKILL");
    }
  });
});
