// Nemesis, bounded waits: while a region's Redis is frozen (SIGSTOP — connections open, no answers), a
// strong read there, a write elsewhere (which must invalidate the frozen region's copy) and an
// acquireLock with waitMs against the frozen lock space must each settle — a value or a typed error —
// well before the freeze ends, instead of hanging for as long as it lasts.
import { BackendUnavailableError, LockTimeoutError, MeridianError } from "@meridian/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { recordFaultRow, writeFaultsMd } from "./support/faults-report.js";
import { type StrongFaultEnv, startStrongFaultEnv } from "./support/strong-faults.js";

const FREEZE_MS = 6000;
/** Each call's budget: the lock's waitMs plus a command timeout's worth of slack. */
const WAIT_MS = 1000;
const SETTLE_BOUND_MS = 3000;

let f: StrongFaultEnv;
beforeAll(async () => {
  f = await startStrongFaultEnv("nembound");
});
afterAll(async () => {
  await f?.stop();
  writeFaultsMd();
});

/** How long `op` took to settle, and how: "ok", a typed error's class name, or an untyped error. */
async function settle(op: () => Promise<unknown>): Promise<{ ms: number; outcome: string }> {
  const t0 = performance.now();
  const outcome = await op().then(
    () => "ok",
    (err: unknown) => (err instanceof MeridianError ? err.constructor.name : `untyped: ${String(err)}`),
  );
  return { ms: performance.now() - t0, outcome };
}

describe("nemesis: every wait is bounded while a region's Redis is frozen", () => {
  it(`us-east Redis (locks + cache) frozen ${FREEZE_MS / 1000} s: reads, writes and acquireLock settle within ${SETTLE_BOUND_MS / 1000} s`, async () => {
    const started = Date.now();
    const { env, servers } = f;
    const key = "acct:bounded";
    await env.cache("eu-west").setWithStrongConsistency(key, 1);
    await env.cache("us-east").getWithStrongConsistency(key); // a copy in the region about to freeze
    const victim = servers.of("us-east");
    victim.freeze();
    // Thawed on a timer, not after the calls: a call that hangs until the thaw must show as slow.
    const thawed = new Promise<void>((r) => setTimeout(r, FREEZE_MS)).then(() => victim.thaw());
    const [readThere, writeElsewhere, lock] = await Promise.all([
      settle(() => env.cache("us-east").getWithStrongConsistency(key)),
      settle(() => env.cache("eu-west").setWithStrongConsistency(key, 2)),
      settle(() => env.cache("ap-south").acquireLock(`lock:${key}`, { waitMs: WAIT_MS })),
    ]);
    await thawed;
    const calls = { readThere, writeElsewhere, lock };
    // Thawed: whatever the write's outcome, the region that was frozen serves the database's value.
    const db = await env.cache("eu-west").table.read(key);
    const after = await env.cache("us-east").getWithStrongConsistency(key);
    const stale = after.version !== db.version;
    const slowest = Math.max(...Object.values(calls).map((c) => c.ms));
    const typed = Object.values(calls).every((c) => !c.outcome.startsWith("untyped"));
    const passed = slowest <= SETTLE_BOUND_MS && typed && !stale;
    recordFaultRow({
      order: 14,
      id: "strong-bounded-waits",
      scenario: `strong: us-east Redis SIGSTOP ${FREEZE_MS / 1000} s — read, write, acquireLock(waitMs ${WAIT_MS})`,
      ops: 3,
      acknowledgedWrites: calls.writeElsewhere.outcome === "ok" ? 1 : 0,
      lost: stale ? 1 : 0,
      linearizable: "—",
      seconds: (Date.now() - started) / 1000,
      passed,
      note: `${passed ? "all settled in time" : `slowest call ${Math.round(slowest)} ms`}: ${Object.entries(
        calls,
      )
        .map(([k, c]) => `${k} ${c.outcome} in ${Math.round(c.ms)} ms`)
        .join(", ")}`,
    });
    for (const c of Object.values(calls)) {
      expect(c.ms).toBeLessThanOrEqual(SETTLE_BOUND_MS);
      expect(c.outcome).not.toMatch(/^untyped/);
    }
    expect(["ok", BackendUnavailableError.name]).toContain(calls.readThere.outcome);
    expect(["ok", BackendUnavailableError.name]).toContain(calls.writeElsewhere.outcome);
    expect(["ok", LockTimeoutError.name, BackendUnavailableError.name]).toContain(calls.lock.outcome);
    expect({ version: after.version, value: after.value }).toEqual({
      version: db.version,
      value: db.json === undefined ? undefined : JSON.parse(db.json),
    });
  });
});
