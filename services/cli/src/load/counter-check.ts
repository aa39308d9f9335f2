// After a run: every region's value of each PN-counter, read through its node, compared with what the
// run's acknowledged increments allow. A read that fails counts as a mismatch (nothing is assumed).
import type { CounterLedger } from "./counter-ledger.js";

/** Per region, the counters whose value the ledger does not allow (empty: all exact). */
export async function counterMismatches(
  nodes: Record<string, string>,
  headers: Record<string, string>,
  ledger: CounterLedger,
  timeoutMs = 10_000,
): Promise<Record<string, string[]>> {
  const keys = [...ledger.expectations().keys()];
  const out: Record<string, string[]> = {};
  for (const [region, base] of Object.entries(nodes)) {
    const values = new Map<string, number>();
    const unreadable: string[] = [];
    // One key at a time per region: five readers, not hundreds of requests at once on a busy node.
    for (const key of keys) {
      try {
        const res = await fetch(`${base}/v1/important/${encodeURIComponent(key)}`, {
          headers,
          signal: AbortSignal.timeout(timeoutMs),
        });
        const body = (await res.json().catch(() => null)) as { value?: unknown } | null;
        if (res.ok && typeof body?.value === "number") values.set(key, body.value);
        else if (res.status !== 404) unreadable.push(`${key}: HTTP ${res.status}`);
      } catch (err) {
        unreadable.push(`${key}: ${(err as Error).message}`);
      }
    }
    out[region] = [...unreadable, ...ledger.mismatches(values)];
  }
  return out;
}
