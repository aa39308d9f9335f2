// Nemesis, strong tier: one region's Redis is killed (-9) and restarted empty, or frozen (SIGSTOP) and
// thawed, while clients in all five regions read, write (half under fenced locks), CAS and transfer.
// The history must stay linearizable and every region must serve PostgreSQL's value afterwards; and a
// lock holder paused across the lock region's Redis restart must be fenced off by the next holder.
import { FencingTokenError, REGIONS } from "@meridian/core";
import type { LockHandle } from "@meridian/locks";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { recordFaultRow, writeFaultsMd } from "./support/faults-report.js";
import { runStrongFault, type StrongFaultEnv, startStrongFaultEnv } from "./support/strong-faults.js";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

let f: StrongFaultEnv;
beforeAll(async () => {
  f = await startStrongFaultEnv("nemesis");
});
afterAll(async () => {
  await f?.stop();
  writeFaultsMd();
});

function record(
  order: number,
  id: string,
  scenario: string,
  run: Awaited<ReturnType<typeof runStrongFault>>,
) {
  const passed = run.linearizable && run.staleAfter.length === 0;
  recordFaultRow({
    order,
    id,
    scenario,
    ops: run.ops,
    acknowledgedWrites: run.acknowledgedWrites,
    lost: run.staleAfter.length,
    linearizable: run.linearizable ? "yes" : "NO",
    seconds: run.elapsedMs / 1000,
    passed,
    note: passed
      ? `${run.errors} ops failed during the fault (typed errors, not acknowledged)`
      : `checker: ${run.checkerStatus}; stale copies after: ${run.staleAfter.slice(0, 3).join(", ") || "none"}`,
  });
  if (run.violation) console.log(run.violation);
  console.log(`[faults] ${id} errors: ${JSON.stringify(run.sampleErrors)}`);
}

describe("nemesis: a region's Redis fails alone under strong load", () => {
  it("us-east Redis (lock space + cache) kill -9, restarted empty: linearizable, no stale copy", async () => {
    const victim = f.servers.of("us-east");
    const run = await runStrongFault(f, {
      clients: 8,
      durationMs: 5000,
      faultAfterMs: 1500,
      seed: 11,
      fault: async () => {
        await victim.kill();
        await sleep(500);
        await victim.restartEmpty();
      },
    });
    record(10, "strong-redis-kill", "strong: us-east Redis kill -9 + restart empty (locks, fencing)", run);
    expect(run.ops).toBeGreaterThan(100);
    expect(run.checkerStatus).toBe("linearizable");
    expect(run.staleAfter).toEqual([]);
  });

  for (const [region, order, seed] of [
    ["eu-west", 11, 12],
    ["us-east", 12, 13],
  ] as const) {
    it(`${region} Redis frozen 2 s (SIGSTOP/SIGCONT)${region === "us-east" ? " — the lock space too" : ""}: linearizable, no stale copy`, async () => {
      const victim = f.servers.of(region);
      const run = await runStrongFault(f, {
        clients: 8,
        durationMs: 5000,
        faultAfterMs: 1500,
        seed,
        fault: async () => {
          victim.freeze();
          await sleep(2000);
          victim.thaw();
        },
      });
      record(order, `strong-redis-stop-${region}`, `strong: ${region} Redis SIGSTOP 2 s / SIGCONT`, run);
      expect(run.ops).toBeGreaterThan(100);
      expect(run.checkerStatus).toBe("linearizable");
      expect(run.staleAfter).toEqual([]);
    });
  }

  it("strong: a lock holder paused across the lock region's Redis restart is fenced off", async () => {
    const started = Date.now();
    const { env, servers } = f;
    const east = env.cache("us-east");
    const key = "acct:fenced";
    const lock = `lock:${key}`;
    for (let i = 0; i < 3; i++) await east.setWithStrongConsistency(key, `warm-${i}`, lock);
    const stale: LockHandle = await east.acquireLock(lock, { ttlMs: 60_000 });
    await east.setWithStrongConsistency(key, "stale-before", stale);

    // The holder pauses (GC, swap); meanwhile the lock region's Redis dies and comes back empty.
    await servers.of("us-east").kill();
    await servers.of("us-east").restartEmpty();

    // A new client takes the lock and writes, retrying refusals as a client would (bounded).
    let refusals = 0;
    let fresh: { fence?: number } | undefined;
    while (!fresh && Date.now() - started < 15_000) {
      try {
        fresh = await env.cache("eu-west").setWithStrongConsistency(key, "fresh", lock);
      } catch (err) {
        if (!(err instanceof FencingTokenError)) throw err;
        refusals += 1;
      }
    }
    // The stale holder wakes up and writes with the token it still has.
    const staleWrite = await east.setWithStrongConsistency(key, "stale-after", stale).then(
      () => "accepted",
      (err: unknown) => (err instanceof FencingTokenError ? "refused" : String(err)),
    );
    const reads = await Promise.all(
      REGIONS.map(async (r) => (await env.cache(r).getWithStrongConsistency(key)).value),
    );
    const lost = fresh !== undefined && reads.some((v) => v !== "fresh") ? 1 : 0;
    const passed = fresh !== undefined && refusals === 0 && staleWrite === "refused" && lost === 0;
    recordFaultRow({
      order: 13,
      id: "strong-fencing-restart",
      scenario: "strong: lock holder paused across us-east Redis restart (fencing tokens)",
      ops: 5 + refusals + 1 + reads.length,
      acknowledgedWrites: 4 + (fresh ? 1 : 0),
      lost,
      linearizable: "—",
      seconds: (Date.now() - started) / 1000,
      passed,
      note: passed
        ? "new holder's first write accepted; stale holder refused"
        : `new holder refused ${refusals}× before its write; stale holder's write ${staleWrite}; reads ${JSON.stringify(reads)}`,
    });
    expect(fresh).toBeDefined();
    expect(refusals).toBe(0);
    expect(staleWrite).toBe("refused");
    expect(reads).toEqual(REGIONS.map(() => "fresh"));
  });
});
