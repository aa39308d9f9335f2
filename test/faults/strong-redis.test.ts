// Nemesis, strong tier: one region's Redis is killed (-9) and restarted empty, or frozen (SIGSTOP) and
// thawed, while clients in all five regions read, write (half under fenced locks), CAS and transfer.
// The history must stay linearizable and every region must serve PostgreSQL's value afterwards.
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

  it("eu-west Redis frozen 2 s (SIGSTOP/SIGCONT): linearizable, no stale copy", async () => {
    const victim = f.servers.of("eu-west");
    const run = await runStrongFault(f, {
      clients: 8,
      durationMs: 5000,
      faultAfterMs: 1500,
      seed: 12,
      fault: async () => {
        victim.freeze();
        await sleep(2000);
        victim.thaw();
      },
    });
    record(11, "strong-redis-stop", "strong: eu-west Redis SIGSTOP 2 s / SIGCONT", run);
    expect(run.ops).toBeGreaterThan(100);
    expect(run.checkerStatus).toBe("linearizable");
    expect(run.staleAfter).toEqual([]);
  });
});
