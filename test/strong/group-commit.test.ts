// Group commit of strong sets against the real PostgreSQL and Redis: concurrent sets share a transaction,
// each write passes or fails its own fence check (checked against a model with fast-check), and a
// connection killed mid-group fails every caller of the group with nothing of it applied.
import { BackendUnavailableError, FencingTokenError, OverloadedError, REGIONS } from "@meridian/core";
import type { LockHandle } from "@meridian/locks";
import type { StrongConsistencyCache } from "@meridian/strong";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { installCommitFaults, sleep, strongTestEnv } from "../support/strong-env.js";

let env: Awaited<ReturnType<typeof strongTestEnv>>;
beforeAll(async () => {
  env = await strongTestEnv("group", 8);
  // A write whose value has `kill` ends its connection at COMMIT; `poison` fails the COMMIT.
  await installCommitFaults(env.pool);
});
afterAll(() => env.cleanup());

/** A handle carrying an arbitrary fence (token, holder): the fence rule is what is under test here. */
const handle = (fence: number, holder: string) =>
  ({ state: "held", resource: "r", token: holder, fence }) as unknown as LockHandle;

/** Committed (version, value) of each key, straight from PostgreSQL. */
async function committed(c: StrongConsistencyCache, keys: readonly string[]) {
  const out: Record<string, { version: number; json: string | undefined }> = {};
  for (const k of keys) out[k] = await c.table.read(k);
  return out;
}

/** Runs `fn` while another transaction holds `key`'s row lock (pid = that transaction's backend). */
async function whileRowLocked<T>(key: string, fn: (pid: number) => Promise<T>): Promise<T> {
  const blocker = await env.pool.connect();
  try {
    await blocker.query("BEGIN");
    await blocker.query("SELECT 1 FROM meridian_strong WHERE key = $1 FOR UPDATE", [key]);
    return await fn((await blocker.query<{ pid: number }>("SELECT pg_backend_pid() AS pid")).rows[0]!.pid);
  } finally {
    await blocker.query("ROLLBACK").catch(() => {});
    blocker.release();
  }
}

/** Every outcome a BackendUnavailableError. */
function allUnavailable(outcomes: PromiseSettledResult<unknown>[]) {
  for (const o of outcomes) {
    expect(o.status).toBe("rejected");
    expect((o as PromiseRejectedResult).reason).toBeInstanceOf(BackendUnavailableError);
  }
}

async function noMarkers(keys: readonly string[]) {
  for (const r of REGIONS) {
    for (const k of keys) expect(await env.redis[r].exists(`${env.keyPrefix}p:${k}`)).toBe(0);
  }
}

describe("group commit", () => {
  it("concurrent sets on one node share transactions; every region then serves each key's last write", async () => {
    const east = env.cache("us-east");
    const keys = Array.from({ length: 8 }, (_, i) => `g:${i}`);
    const before = { ...east.groupCommitStats()! };
    const acks = await Promise.all(
      Array.from({ length: 64 }, (_, i) => east.setWithStrongConsistency(keys[i % 8]!, { i })),
    );
    const after = east.groupCommitStats()!;
    expect(after.writes - before.writes).toBe(64);
    expect(after.groups - before.groups).toBeLessThan(64 / 4); // shared, not one transaction per write
    for (let k = 0; k < 8; k++) {
      // Each key's writes got their own versions, in submission order.
      const versions = acks.filter((_, i) => i % 8 === k).map((a) => a.version);
      expect(versions).toEqual([...versions].sort((a, b) => a - b));
      expect(new Set(versions).size).toBe(8);
      for (const r of REGIONS) {
        const read = await env.cache(r).getWithStrongConsistency(keys[k]!);
        expect(read.version).toBe(versions.at(-1));
        expect(read.value).toEqual({ i: 56 + k });
      }
    }
    await noMarkers(keys);
  });

  it("each write of a group passes or fails its own fence check, exactly as if applied one by one", async () => {
    const east = env.cache("us-east");
    const keys = ["f:a", "f:b", "f:c"];
    const write = fc.record({
      key: fc.constantFrom(...keys),
      fence: fc.option(
        fc.record({ token: fc.integer({ min: 1, max: 6 }), holder: fc.constantFrom("h1", "h2") }),
      ),
    });
    let run = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(write, { minLength: 1, maxLength: 12 }), async (writes) => {
        run++;
        const base = await committed(east, keys);
        const model = new Map(keys.map((k) => [k, { version: base[k]!.version, fence: 0, holder: "" }]));
        // Fences start from a clean slate per run: every key at fence 0 (run-scoped holders).
        for (const k of keys)
          await env.pool.query("UPDATE meridian_strong SET fence = 0, fence_holder = NULL WHERE key = $1", [
            k,
          ]);
        const before = { ...east.groupCommitStats()! };
        const outcomes = await Promise.allSettled(
          writes.map((w, i) =>
            east.setWithStrongConsistency(
              w.key,
              { run, i },
              w.fence ? handle(w.fence.token, `${w.fence.holder}:${run}`) : undefined,
            ),
          ),
        );
        expect(east.groupCommitStats()!.groups - before.groups).toBe(1); // one group, one transaction
        writes.forEach((w, i) => {
          const m = model.get(w.key)!;
          const holder = w.fence ? `${w.fence.holder}:${run}` : "";
          const ok =
            !w.fence || m.fence < w.fence.token || (m.fence === w.fence.token && m.holder === holder);
          const o = outcomes[i]!;
          if (!ok) {
            expect(o.status).toBe("rejected");
            expect((o as PromiseRejectedResult).reason).toBeInstanceOf(FencingTokenError);
            return;
          }
          m.version++;
          if (w.fence) {
            m.fence = Math.max(m.fence, w.fence.token);
            m.holder = holder;
          }
          expect(o).toEqual({ status: "fulfilled", value: expect.objectContaining({ version: m.version }) });
        });
        const after = await committed(east, keys);
        for (const k of keys) expect(after[k]!.version).toBe(model.get(k)!.version);
        await noMarkers(keys);
      }),
      { numRuns: 25 },
    );
  });

  it("a connection killed at the group's COMMIT: every caller gets BackendUnavailableError, nothing applied", async () => {
    const east = env.cache("us-east");
    const keys = Array.from({ length: 6 }, (_, i) => `k:${i}`);
    for (const k of keys) await east.setWithStrongConsistency(k, { v: 0 });
    await env.cache("eu-west").getWithStrongConsistency(keys[0]!); // a remote copy exists
    const base = await committed(east, keys);
    const before = { ...east.groupCommitStats()! };
    const outcomes = await Promise.allSettled(
      keys.map((k, i) => east.setWithStrongConsistency(k, i === 3 ? { kill: true } : { v: 1 })),
    );
    expect(east.groupCommitStats()!.groups - before.groups).toBe(1);
    allUnavailable(outcomes);
    expect(await committed(east, keys)).toEqual(base);
    await noMarkers(keys);
    for (const r of REGIONS) {
      expect((await env.cache(r).getWithStrongConsistency(keys[0]!)).value).toEqual({ v: 0 });
    }
  });

  it("a write PostgreSQL refuses at COMMIT fails alone: the rest of its group is retried and commits", async () => {
    const east = env.cache("us-east");
    const keys = Array.from({ length: 5 }, (_, i) => `p:${i}`);
    for (const k of keys) await east.setWithStrongConsistency(k, { v: 0 });
    const base = await committed(east, keys);
    const outcomes = await Promise.allSettled(
      keys.map((k, i) => east.setWithStrongConsistency(k, i === 2 ? { poison: true } : { v: 1 })),
    );
    outcomes.forEach((o, i) => {
      if (i === 2) {
        expect(o.status).toBe("rejected");
        expect(String((o as PromiseRejectedResult).reason)).toMatch(/injected commit failure/);
      } else {
        expect(o).toEqual({
          status: "fulfilled",
          value: expect.objectContaining({ version: base[keys[i]!]!.version + 1 }),
        });
      }
    });
    const after = await committed(east, keys);
    expect(after[keys[2]!]).toEqual(base[keys[2]!]);
    await noMarkers(keys);
    for (const r of REGIONS) {
      expect((await env.cache(r).getWithStrongConsistency(keys[0]!)).value).toEqual({ v: 1 });
      expect((await env.cache(r).getWithStrongConsistency(keys[2]!)).value).toEqual({ v: 0 });
    }
  });

  it("pg_terminate_backend while the group waits for a row lock: all callers fail, nothing applied", async () => {
    const east = env.cache("us-east");
    const keys = Array.from({ length: 6 }, (_, i) => `t:${i}`);
    for (const k of keys) await east.setWithStrongConsistency(k, { v: 0 });
    const base = await committed(east, keys);
    await whileRowLocked(keys[4]!, async (pid) => {
      const writes = Promise.allSettled(keys.map((k) => east.setWithStrongConsistency(k, { v: 1 })));
      let victim: number | undefined;
      for (let i = 0; i < 200 && victim === undefined; i++) {
        const r = await env.admin.query<{ pid: number }>(
          "SELECT pid FROM pg_stat_activity WHERE $1 = ANY(pg_blocking_pids(pid))",
          [pid],
        );
        victim = r.rows[0]?.pid;
        if (victim === undefined) await sleep(10);
      }
      expect(victim).toBeDefined(); // the group holds keys 0..3 and waits for key 4
      await env.admin.query("SELECT pg_terminate_backend($1)", [victim]);
      allUnavailable(await writes);
    });
    expect(await committed(east, keys)).toEqual(base);
    await noMarkers(keys);
    const after = await east.setWithStrongConsistency(keys[4]!, { v: 2 }); // the node writes again
    expect(after.version).toBe(base[keys[4]!]!.version + 1);
  });

  it("a group PostgreSQL ends at statement_timeout fails with BackendUnavailableError, nothing applied", async () => {
    const quick = env.cache("us-east", { pgTimeoutMs: 200 });
    const keys = ["st:0", "st:1", "st:2"];
    for (const k of keys) await quick.setWithStrongConsistency(k, 0);
    const base = await committed(quick, keys);
    await whileRowLocked(keys[1]!, async () => {
      allUnavailable(await Promise.allSettled(keys.map((k) => quick.setWithStrongConsistency(k, 1))));
    });
    expect(await committed(quick, keys)).toEqual(base);
    await noMarkers(keys);
  });

  it("past the bounded queue, a set is refused at once with a retriable OverloadedError", async () => {
    const small = env.cache("us-east", { groupCommit: { maxQueued: 4, maxConcurrentGroups: 1 } });
    const outcomes = await Promise.allSettled(
      Array.from({ length: 12 }, (_, i) => small.setWithStrongConsistency(`o:${i}`, i)),
    );
    const refused = outcomes.filter((o) => o.status === "rejected");
    expect(outcomes.filter((o) => o.status === "fulfilled")).toHaveLength(4);
    expect(refused).toHaveLength(8);
    for (const o of refused) {
      const err = (o as PromiseRejectedResult).reason;
      expect(err).toBeInstanceOf(OverloadedError);
      expect(err.retriable).toBe(true);
    }
    for (let i = 0; i < 12; i++) {
      expect((await small.table.read(`o:${i}`)).version).toBe(i < 4 ? 1 : 0); // refused = not applied
    }
  });
});
