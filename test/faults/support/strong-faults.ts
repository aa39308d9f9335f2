// The strong tier over one private redis-server per region, and one run of the recorded workload of
// test/strong while a fault is injected, checked by the WGL checker and against PostgreSQL afterwards.
import { RegionRedisServers } from "@meridian/cluster";
import { REGIONS, type Region } from "@meridian/core";
import { checkLinearizability, describeViolation } from "@meridian/monitor";
import { Redis } from "ioredis";
import { strongTestEnv } from "../../support/strong-env.js";
import { HOT_KEYS, runWorkload } from "../../support/strong-workload.js";

export type StrongFaultEnv = Awaited<ReturnType<typeof startStrongFaultEnv>>;

export async function startStrongFaultEnv(label: string) {
  const servers = await RegionRedisServers.start(REGIONS);
  const redis = {} as Record<Region, Redis>;
  for (const r of REGIONS) {
    redis[r] = new Redis(servers.of(r).url, { maxRetriesPerRequest: 2 });
    redis[r].on("error", () => {}); // surfaced per command as BackendUnavailableError
  }
  const env = await strongTestEnv(label, 20, redis);
  return {
    env,
    servers,
    async stop() {
      await env.cleanup().catch(() => undefined);
      await servers.stopAll();
    },
  };
}

export interface StrongFaultRun {
  ops: number;
  acknowledgedWrites: number;
  errors: number;
  linearizable: boolean;
  checkerStatus: string;
  violation: string | undefined;
  /** Region × key reads after the fault that disagree with PostgreSQL (a stale copy kept). */
  staleAfter: string[];
  elapsedMs: number;
  sampleErrors: string[];
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Seeds the hot keys, runs `clients` workload clients for `durationMs` while `fault()` runs alongside
 * (started `faultAfterMs` in), checks the history, then reads every key in every region and compares
 * with the row in PostgreSQL.
 */
export async function runStrongFault(
  f: StrongFaultEnv,
  o: { clients: number; durationMs: number; faultAfterMs: number; fault: () => Promise<void>; seed: number },
): Promise<StrongFaultRun> {
  const { env } = f;
  const east = env.cache("us-east");
  const initial: Record<string, number> = {};
  for (const k of HOT_KEYS) {
    await east.setWithStrongConsistency(k, 0);
    initial[k] = 0;
  }
  const started = performance.now();
  const faultDone = sleep(o.faultAfterMs).then(o.fault);
  const { history, counts, errors } = await runWorkload({
    clients: o.clients,
    opsPerClient: 1_000_000,
    durationMs: o.durationMs,
    cacheFor: (region) => env.cache(region),
    seed: o.seed,
  });
  await faultDone;
  const elapsedMs = performance.now() - started;
  const result = checkLinearizability(history, { initial, timeBudgetMs: 120_000 });
  const staleAfter: string[] = [];
  for (const key of HOT_KEYS) {
    const row = await env.cache("us-east").table.read(key);
    for (const region of REGIONS) {
      const r = await env.cache(region).getWithStrongConsistency(key);
      if (r.version !== row.version) staleAfter.push(`${key}@${region} v${r.version}≠db v${row.version}`);
    }
  }
  return {
    ops: history.length,
    acknowledgedWrites: counts.write + counts.txn,
    errors: counts.errors,
    linearizable: result.status === "linearizable",
    checkerStatus: result.status,
    violation: result.violation ? describeViolation(result.violation, 12) : undefined,
    staleAfter,
    elapsedMs,
    sampleErrors: [...new Set(errors)].slice(0, 5),
  };
}
