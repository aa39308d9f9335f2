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
}

const MAX_SAMPLES = 200_000;

export const opsPerS = (r: Row) => r.ops / r.seconds;

export async function runFor(
  name: string,
  inFlight: number,
  ms: number,
  perCall: number,
  op: (i: number) => Promise<unknown>,
): Promise<Row> {
  const row: Row = { name, inFlight, ops: 0, seconds: 0, latMs: [], errors: 0 };
  let calls = 0;
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
  console.log(`${name} ×${inFlight}: ${fmt(opsPerS(row))}/s, ${row.errors} errors`);
  return row;
}
