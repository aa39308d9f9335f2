// Closed-loop lock workloads for bench/locks: W workers each acquire, then release, for a fixed time;
// acquisitions and releases both count as lock operations. Acquire latency is sampled per acquisition.
import { execFile } from "node:child_process";
import { promisify } from "node:util";

export interface LockRun {
  name: string;
  acquisitions: number;
  releases: number;
  seconds: number;
  /** CPU seconds this process used during the run (the machine is shared: wall time includes waiting). */
  cpuSeconds: number;
  acquireMs: number[];
  errors: number;
  /** Failed acquisitions by error name. */
  errorKinds: Record<string, number>;
}

/** acquire() resolves to the release function of the lock it took. */
export type Acquire = (worker: number, i: number) => Promise<() => Promise<unknown>>;

const MAX_SAMPLES = 200_000;

export async function closedLoop(
  name: string,
  workers: number,
  ms: number,
  acquire: Acquire,
): Promise<LockRun> {
  const run: LockRun = {
    name,
    acquisitions: 0,
    releases: 0,
    seconds: 0,
    cpuSeconds: 0,
    acquireMs: [],
    errors: 0,
    errorKinds: {},
  };
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  const end = t0 + ms;
  await Promise.all(
    Array.from({ length: workers }, async (_, w) => {
      for (let i = 0; performance.now() < end; i++) {
        const a = performance.now();
        let release: () => Promise<unknown>;
        try {
          release = await acquire(w, i);
        } catch (err) {
          run.errors++;
          const kind = (err as Error).name ?? "Error";
          run.errorKinds[kind] = (run.errorKinds[kind] ?? 0) + 1;
          continue;
        }
        if (run.acquireMs.length < MAX_SAMPLES) run.acquireMs.push(performance.now() - a);
        run.acquisitions++;
        await release();
        run.releases++;
      }
    }),
  );
  run.seconds = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(c0);
  run.cpuSeconds = (cpu.user + cpu.system) / 1e6;
  return run;
}

export interface RedisBenchRow {
  name: string;
  rps: number;
  p50ms: number;
  p99ms: number;
}

/** redis-benchmark on one command line (CSV output); the server's own limit for that command. */
export async function redisBenchmark(
  host: string,
  port: number,
  name: string,
  args: string[],
  requests: number,
): Promise<RedisBenchRow> {
  const { stdout } = await promisify(execFile)(
    "redis-benchmark",
    ["-h", host, "-p", String(port), "-n", String(requests), "-c", "50", "-r", "1000000", "--csv", ...args],
    { timeout: 60_000 },
  );
  const last = stdout
    .trim()
    .split("\n")
    .at(-1)!
    .split(",")
    .map((c) => c.replaceAll('"', ""));
  return { name, rps: Number(last[1]), p50ms: Number(last[4]), p99ms: Number(last[6]) };
}
