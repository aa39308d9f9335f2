// Integration tests of CoherentNearCache against the real Redis: several nodes, each with its own
// ioredis connections (commands + pub/sub), on a key prefix and channels unique to this run.
import { execFile, spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { CoherentNearCache, type NearCacheOptions } from "@meridian/coherence";
import { configFromEnv, StalenessBoundError } from "@meridian/core";
import { deleteKeysWithPrefix } from "@meridian/store";
import { Redis } from "ioredis";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { seededInts } from "../../bench/lib/prng.js";

const redisUrl = configFromEnv().redisUrl;
const runPrefix = `mer-coh-test-${randomUUID().slice(0, 8)}`;
let admin: Redis;
let open: CoherentNearCache<unknown>[] = [];
let testNo = 0;

async function nodes<V>(n: number, prefix: string, extra: Partial<NearCacheOptions> = {}) {
  const out: CoherentNearCache<V>[] = [];
  for (let i = 0; i < n; i++) {
    const c = await CoherentNearCache.connect<V>({ redisUrl, prefix, nodeId: `node${i}`, ...extra });
    out.push(c);
    open.push(c as CoherentNearCache<unknown>);
  }
  return out;
}

beforeAll(() => {
  admin = new Redis(redisUrl);
});
afterEach(async () => {
  for (const c of open) await c.close().catch(() => {});
  open = [];
});
afterAll(async () => {
  await deleteKeysWithPrefix(admin, runPrefix); // per-test prefixes are `${runPrefix}-N`
  await admin.quit();
});

const freshPrefix = () => `${runPrefix}-${++testNo}`;

describe("CoherentNearCache (real Redis, pub/sub invalidations)", () => {
  it("two nodes stay coherent: reads see the latest write on either node", async () => {
    const [a, b] = await nodes<number>(2, freshPrefix());
    await a!.set("k", 1);
    expect(a!.stateOf("k")).toBe("M");
    expect((await b!.get("k")).value).toBe(1); // recalls a's dirty line
    expect(a!.stateOf("k")).toBe("S");
    expect(b!.stateOf("k")).toBe("S");
    expect((await a!.get("k")).l1Hit).toBe(true);
    await b!.set("k", 2); // invalidates a's copy before returning
    expect(a!.stateOf("k")).toBe("I");
    const r = await a!.get("k");
    expect(r.value).toBe(2);
    expect(r.l1Hit).toBe(false);
  });

  it.each([42, 7, 1234])(
    "three nodes behave like one sequential map under random operations (seed %i)",
    async (s0) => {
      const cs = await nodes<number>(3, freshPrefix(), { l1Capacity: 3 });
      const model = new Map<string, number>();
      const rnd = seededInts(s0);
      const classes = ["critical", "important", "cacheable"] as const;
      for (let i = 0; i < 300; i++) {
        const c = cs[rnd(3)]!;
        const key = `k${rnd(5)}`;
        const op = rnd(10);
        if (op < 4) {
          await c.set(key, i, classes[rnd(3)]);
          model.set(key, i);
        } else if (op < 9) {
          expect((await c.get(key)).value, `op ${i} read ${key}`).toBe(model.get(key));
        } else {
          await c.evict(key);
        }
        // Single writer: at most one node holds a key in E/M, and then nobody holds it in S.
        for (const k of model.keys()) {
          const states = cs.map((n) => n.stateOf(k));
          const owners = states.filter((s) => s === "E" || s === "M").length;
          const sharers = states.filter((s) => s === "S").length;
          expect(owners <= 1 && (owners === 0 || sharers === 0), `${k}: ${states}`).toBe(true);
        }
      }
    },
  );

  it("concurrent writers on three nodes end with every node reading the same value", async () => {
    const cs = await nodes<string>(3, freshPrefix());
    await Promise.all(
      cs.map(async (c, i) => {
        for (let j = 0; j < 20; j++) await c.set("hot", `n${i}-${j}`);
      }),
    );
    const reads = await Promise.all(cs.map((c) => c.get("hot")));
    const values = new Set(reads.map((r) => r.value));
    expect(values.size).toBe(1);
    expect([...values][0]).toMatch(/^n\d-19$/);
  });

  it("write-back loses no write across an orderly shutdown", async () => {
    const prefix = freshPrefix();
    const [writer] = await nodes<number>(1, prefix, {
      writeBuffer: { maxEntries: 10_000, maxAgeMs: 60_000 },
    });
    for (let i = 0; i < 100; i++) await writer!.set(`pos${i}`, i * 10, "important");
    expect(writer!.dirtyKeys().length).toBe(100);
    expect(await admin.get(`${prefix}:val:pos7`)).toBeNull(); // still only in the writer's L1
    await writer!.close();
    expect(await admin.get(`${prefix}:val:pos7`)).toBe("70");
    const [reader] = await nodes<number>(1, prefix);
    for (let i = 0; i < 100; i++) expect((await reader!.get(`pos${i}`)).value).toBe(i * 10);
  });

  it("flushes a dirty line when it is evicted for capacity", async () => {
    const prefix = freshPrefix();
    const [c] = await nodes<number>(1, prefix, {
      l1Capacity: 2,
      writeBuffer: { maxEntries: 10_000, maxAgeMs: 60_000 },
    });
    await c!.set("a", 1);
    await c!.set("b", 2);
    expect(await admin.get(`${prefix}:val:a`)).toBeNull();
    await c!.set("c", 3); // capacity 2: "a" (least recently used) is written back and dropped
    expect(c!.stateOf("a")).toBe("I");
    expect(await admin.get(`${prefix}:val:a`)).toBe("1");
    expect(await admin.get(`${prefix}:val:c`)).toBeNull();
    expect(c!.stats.evictions).toBe(1);
  });

  it("write-through (critical) is in Redis when set returns", async () => {
    const prefix = freshPrefix();
    const [a, b] = await nodes<number>(2, prefix);
    await a!.set("balance", 500, "critical");
    expect(await admin.get(`${prefix}:val:balance`)).toBe("500");
    expect(a!.stateOf("balance")).toBe("E");
    expect((await b!.get("balance")).value).toBe(500);
  });

  it("flushes write-back lines when they get old, without giving up ownership", async () => {
    const prefix = freshPrefix();
    const [a] = await nodes<number>(1, prefix, { writeBuffer: { maxEntries: 10_000, maxAgeMs: 40 } });
    await a!.set("aged", 9);
    await new Promise((r) => setTimeout(r, 200));
    expect(await admin.get(`${prefix}:val:aged`)).toBe("9");
    expect(a!.stateOf("aged")).toBe("M");
    expect(a!.dirtyKeys()).toEqual([]);
  });

  it("a crashed owner does not block readers forever: its lease lapses and ownership is taken back", async () => {
    const prefix = freshPrefix();
    const opts = {
      leaseMs: 600,
      requestTimeoutMs: 300,
      writeBuffer: { maxEntries: 10_000, maxAgeMs: 60_000 },
    };
    const [b] = await nodes<number>(1, prefix, opts);
    // The owner runs in a child process and dies by SIGKILL: nothing flushed, nothing released.
    // Node itself (not the tsx wrapper, whose SIGKILL would leave its node child running).
    const fixture = fileURLToPath(new URL("./fixtures/crashing-node.ts", import.meta.url));
    const owner = spawn(process.execPath, ["--import", "tsx", fixture], {
      env: {
        ...process.env,
        COH_PREFIX: prefix,
        COH_LEASE_MS: String(opts.leaseMs),
        MERIDIAN_REDIS_URL: redisUrl,
      },
    });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error("the owner never said ready")), 30_000);
      owner.stdout.on("data", (d: Buffer) => {
        if (d.toString().includes("ready")) {
          clearTimeout(timer);
          resolve();
        }
      });
      owner.on("exit", (code) => reject(new Error(`the owner exited early (${code})`)));
    });
    const dead = new Promise((resolve) => owner.once("exit", resolve));
    owner.kill("SIGKILL");
    await dead; // a live owner would still answer b's request with its dirty value
    const r = await b!.get("x");
    expect(r.value).toBe(1); // the unflushed write died with the node (why orderly shutdown matters)
    await b!.set("x", 3);
    expect((await b!.get("x")).value).toBe(3);
  });

  it("a node in another process stays coherent with this one and loses nothing on orderly exit", async () => {
    const prefix = freshPrefix();
    const [parent] = await nodes<string>(1, prefix);
    await parent!.set("shared", "from-parent", "critical");
    expect((await parent!.get("shared")).l1Hit).toBe(true);
    const child = fileURLToPath(new URL("./fixtures/child-node.ts", import.meta.url));
    const tsx = fileURLToPath(new URL("../../node_modules/.bin/tsx", import.meta.url));
    const { stdout } = await promisify(execFile)(tsx, [child], {
      env: { ...process.env, COH_PREFIX: prefix, COH_COUNT: "20", MERIDIAN_REDIS_URL: redisUrl },
    });
    expect(JSON.parse(stdout.trim().split("\n").pop()!).dirtyBeforeClose).toBe(21);
    // The child's write invalidated our copy (over pub/sub, across processes) before it returned.
    expect(parent!.stateOf("shared")).toBe("I");
    expect((await parent!.get("shared")).value).toBe("from-child");
    for (let i = 0; i < 20; i++) expect((await parent!.get(`child:${i}`)).value).toBe(`v${i}`);
  });

  it("regression: a node whose subscription dropped is not left stale forever", async () => {
    const prefix = freshPrefix();
    const [a, b] = await nodes<number>(2, prefix, { requestTimeoutMs: 200 });
    await a!.set("k", 1, "critical");
    expect((await b!.get("k")).value).toBe(1);
    expect(b!.stateOf("k")).toBe("S");
    // Kill b's pub/sub connection (found by its client name); ioredis reconnects and resubscribes.
    const list = (await admin.client("LIST")) as string;
    const line = list.split("\n").find((l) => l.includes(`name=${b!.subscriberName()} `));
    expect(line).toBeDefined();
    const id = /\bid=(\d+)/.exec(line!)![1]!;
    await admin.client("KILL", "ID", id);
    await a!.set("k", 2, "critical"); // b is alive (lease) so a waits for its ack after it resubscribes
    expect((await b!.get("k")).value).toBe(2);
  });

  it("cacheable copies expire from L1 after their TTL; a read below minVersion is refused", async () => {
    const prefix = freshPrefix();
    const [a, b] = await nodes<string>(2, prefix, { cacheableTtlMs: 100 });
    await a!.set("pref", "dark", "critical");
    const first = await b!.get("pref", { dataClass: "cacheable" });
    expect(first.value).toBe("dark");
    expect((await b!.get("pref")).l1Hit).toBe(true);
    await new Promise((r) => setTimeout(r, 150));
    const later = await b!.get("pref");
    expect(later.l1Hit).toBe(false); // TTL bound: went back to Redis
    expect(later.value).toBe("dark");
    await expect(b!.get("pref", { minVersion: later.version + 5 })).rejects.toBeInstanceOf(
      StalenessBoundError,
    );
  });

  it("regression: after an event-loop stall longer than its lease a node does not serve its stale L1 copy", async () => {
    const prefix = freshPrefix();
    const [writer] = await nodes<number>(1, prefix, { requestTimeoutMs: 100 });
    await writer!.set("k", 1, "critical");
    const tsx = fileURLToPath(new URL("../../node_modules/.bin/tsx", import.meta.url));
    const child = spawn(tsx, [fileURLToPath(new URL("./fixtures/stalled-node.ts", import.meta.url))], {
      env: { ...process.env, COH_PREFIX: prefix, COH_STALL_MS: "1500", MERIDIAN_REDIS_URL: redisUrl },
    });
    const lines: Record<string, { value: number; l1Hit?: boolean; state?: string }> = {};
    let buf = "";
    const seen = (phase: string) =>
      new Promise<void>((resolve, reject) => {
        const check = () => {
          if (lines[phase]) resolve();
        };
        child.stdout.on("data", (d: Buffer) => {
          buf += d.toString();
          for (const l of buf.split("\n").slice(0, -1)) {
            const m = JSON.parse(l) as { phase: string; value: number };
            lines[m.phase] = m;
          }
          buf = buf.slice(buf.lastIndexOf("\n") + 1);
          check();
        });
        child.on("exit", (code) => (lines[phase] ? resolve() : reject(new Error(`child exited ${code}`))));
        check();
      });
    await seen("holding");
    expect(lines.holding!.state).toBe("S"); // the writer kept a shared copy when recalled
    // The stalled node cannot ack the Inv; once its lease lapses the writer stops waiting for it.
    await writer!.set("k", 2, "critical");
    await seen("after-stall");
    expect(lines["after-stall"]!.value).toBe(2);
    expect(lines["after-stall"]!.l1Hit).toBe(false);
  });
});
