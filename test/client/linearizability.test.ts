// Critical reads served from the in-process L1 stay linearizable: 20 clients in five regions (4 each),
// writes from every client, some nodes' leases lapse mid-run (their renewals are held back longer than
// a lease). The same workload through a wrapper that acknowledges writes without invalidating any L1
// copy is caught by the checker.
import type { MeridianClient } from "@meridian/client";
import { REGIONS } from "@meridian/core";
import { checkLinearizability, describeViolation } from "@meridian/monitor";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { clientTestEnv, sleep } from "./support/client-env.js";
import { type CriticalOps, runCriticalWorkload, throughClient } from "./support/workload.js";

const LEASE_MS = 1000;
const KEYS = Array.from({ length: 8 }, (_, i) => `acct:${i}`);

let env: Awaited<ReturnType<typeof clientTestEnv>>;
let clients: MeridianClient[];
beforeAll(async () => {
  env = await clientTestEnv("lin", 24);
  clients = await Promise.all(
    Array.from({ length: 20 }, (_, i) =>
      env.client(REGIONS[i % REGIONS.length]!, {
        critical: { pg: env.pool, keyPrefix: env.keyPrefix, leaseMs: LEASE_MS },
      }),
    ),
  );
}, 60_000);
afterAll(() => env.cleanup());

async function seed(prefix: string): Promise<Record<string, number>> {
  const initial: Record<string, number> = {};
  for (const k of KEYS) {
    await clients[0]!.set("critical", `${prefix}${k}`, 0);
    initial[`${prefix}${k}`] = 0;
  }
  return initial;
}

const lapsesOf = (c: MeridianClient) => c.stats().critical.lease?.lapses ?? 0;
const lapsesSince = (cs: MeridianClient[], before: number[]) =>
  cs.reduce((sum, c, i) => sum + lapsesOf(c) - before[i]!, 0);

/** Polls `done` every 50 ms for at most `timeoutMs` (the caller's assertions tell whether it came true). */
async function until(done: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!done() && Date.now() < deadline) await sleep(50);
}

/** Fault injection from outside: hold back this node's lease renewals by 1.5 leases for `forMs`. */
function lapseLease(c: MeridianClient, forMs: number): void {
  const lease = (c as unknown as { lease: { renew: () => Promise<void> } }).lease;
  const original = lease.renew.bind(lease);
  lease.renew = async () => {
    await sleep(LEASE_MS * 1.5);
    return original();
  };
  setTimeout(() => {
    lease.renew = original;
  }, forMs);
}

describe("linearizability of critical reads from L1", () => {
  it("20 clients, 5 regions, >= 10 000 ops, leases lapsing mid-run: linearizable, mostly L1 hits", async () => {
    const initial = await seed("ok:");
    const keys = KEYS.map((k) => `ok:${k}`);
    const lapsing = [clients[1]!, clients[7]!, clients[13]!];
    const lapsesBefore = lapsing.map(lapsesOf);
    const { history, counts, errors } = await runCriticalWorkload({
      clients: clients.map((c, i) => ({ name: `${c.region}#${i}`, ops: throughClient(c) })),
      keys,
      opsPerClient: 600,
      writeRatio: 0.015,
      onProgress: async (done) => {
        if (done === 2000) for (const c of lapsing) lapseLease(c, 2 * LEASE_MS);
        // The run must go on past a lapse: one client holds at this point until one has been counted.
        if (done === 8000) await until(() => lapsesSince(lapsing, lapsesBefore) > 0, 10_000);
      },
    });
    const result = checkLinearizability(history, { initial, timeBudgetMs: 120_000 });
    const lapses = lapsing.map((c, i) => lapsesOf(c) - lapsesBefore[i]!);
    console.log(
      `client workload: ${history.length} ops ${JSON.stringify(counts)}, lapses ${JSON.stringify(lapses)}; ` +
        `checker: ${result.status} in ${result.elapsedMs.toFixed(0)} ms`,
    );
    if (result.violation) console.log(describeViolation(result.violation, 12));
    expect(errors.filter((e) => !e.includes("no trusted lease")).slice(0, 3)).toEqual([]);
    expect(history.length).toBeGreaterThanOrEqual(10_000);
    expect(counts.writes).toBeGreaterThan(120);
    expect(counts.l1Reads / counts.reads).toBeGreaterThan(0.5);
    expect(lapses.some((n) => n > 0)).toBe(true);
    expect(result.status).toBe("linearizable");
  }, 240_000);

  it("the same workload with writes acknowledged without L1 invalidation is not linearizable", async () => {
    const initial = await seed("broken:");
    const keys = KEYS.map((k) => `broken:${k}`);
    // The broken variant: commit through the strong tier directly, skipping every L1 holder.
    const broken = (c: MeridianClient): CriticalOps => ({
      get: (key) => c.get("critical", key),
      set: (key, value) => c.strong!.setWithStrongConsistency(key, value),
    });
    const { history } = await runCriticalWorkload({
      clients: clients.map((c, i) => ({ name: `${c.region}#${i}`, ops: broken(c) })),
      keys,
      opsPerClient: 150,
      writeRatio: 0.06,
      seed: 7,
    });
    const result = checkLinearizability(history, { initial, timeBudgetMs: 120_000 });
    console.log(`broken variant: ${history.length} ops; checker: ${result.status}`);
    expect(result.status).toBe("not-linearizable");
    const v = result.violation!;
    console.log(describeViolation(v, 8));
    expect(v.prefix).toContain(v.failingOperation);
  }, 240_000);
});
