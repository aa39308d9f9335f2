// A closed-loop driver for the write bench: `inFlight` callers each issue the next write as soon as the
// previous one is acknowledged, for `ms`. One call may stand for several writes (`perCall`, a batch send).
import { fmt } from "../lib/report.js";

export interface Row {
  name: string;
  inFlight: number;
  /** Writes acknowledged. */
  ops: number;
  seconds: number;
  /** Latency of each acknowledged call, ms (sampled up to MAX_SAMPLES). */
  latMs: number[];
  errors: number;
  /** CPU this process spent during the case, µs (user + system, every thread). */
  cpuUs?: number;
  /** CPU the Redis server spent during the case, µs, where the case measured it. */
  redisCpuUs?: number;
}

const MAX_SAMPLES = 200_000;

export const opsPerS = (r: Row) => r.ops / r.seconds;

/** Seconds of CPU the Redis server has used (INFO cpu): sampled around a case to charge it its share. */
export async function redisCpuSeconds(redis: { info(section: "cpu"): Promise<string> }): Promise<number> {
  const info = await redis.info("cpu");
  const field = (name: string) => Number(new RegExp(`^${name}:([0-9.]+)`, "m").exec(info)?.[1] ?? Number.NaN);
  return field("used_cpu_user") + field("used_cpu_sys");
}

export async function runFor(
  name: string,
  inFlight: number,
  ms: number,
  perCall: number,
  op: (i: number) => Promise<unknown>,
): Promise<Row> {
  const row: Row = { name, inFlight, ops: 0, seconds: 0, latMs: [], errors: 0 };
  let calls = 0;
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const end = t0 + ms;
  await Promise.all(
    Array.from({ length: inFlight }, async () => {
      while (performance.now() < end) {
        const a = performance.now();
        try {
          await op(calls++);
        } catch {
          row.errors++;
          continue;
        }
        if (row.latMs.length < MAX_SAMPLES) row.latMs.push(performance.now() - a);
        row.ops += perCall;
      }
    }),
  );
  row.seconds = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  row.cpuUs = cpu.user + cpu.system;
  console.log(`${name} ×${inFlight}: ${fmt(opsPerS(row))}/s, ${row.errors} errors`);
  return row;
}
