// After a run: every region's value of each PN-counter, read through its node, compared with what the
// run's acknowledged increments allow.
import type { CounterLedger } from "./counter-ledger.js";

/** Per region, the counters whose value the ledger does not allow (empty: all exact). */
export async function counterMismatches(
  nodes: Record<string, string>,
  headers: Record<string, string>,
  ledger: CounterLedger,
  timeoutMs = 5000,
): Promise<Record<string, string[]>> {
  const keys = [...ledger.expectations().keys()];
  const out: Record<string, string[]> = {};
  for (const [region, base] of Object.entries(nodes)) {
    const values = new Map<string, number>();
    await Promise.all(
      keys.map(async (key) => {
        const res = await fetch(`${base}/v1/important/${encodeURIComponent(key)}`, {
          headers,
          signal: AbortSignal.timeout(timeoutMs),
        });
        const body = (await res.json().catch(() => null)) as { value?: unknown } | null;
        if (res.ok && typeof body?.value === "number") values.set(key, body.value);
      }),
    );
    out[region] = ledger.mismatches(values);
  }
  return out;
}
