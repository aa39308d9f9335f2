// One fenced ledger operation of the demo's load (POST /v1/critical/transfer or /deposit on a region
// node): the node takes the accounts' distributed locks, so these feed meridian_lock_wait/hold_seconds.
// An overdraft (409 INSUFFICIENT_FUNDS) is a normal answer of a ledger, not an error of the load.
import type { ConsistencyMonitor } from "@meridian/monitor";

const ACCOUNTS = 6;

export async function ledgerOperation(
  region: string,
  url: string,
  headers: Record<string, string>,
  monitor: ConsistencyMonitor,
): Promise<void> {
  const from = Math.floor(Math.random() * ACCOUNTS);
  const to = (from + 1 + Math.floor(Math.random() * (ACCOUNTS - 1))) % ACCOUNTS;
  const deposit = Math.random() < 0.25;
  const [path, body] = deposit
    ? ["deposit", { account: `demo${from}`, amount: 100 }]
    : ["transfer", { from: `demo${from}`, to: `demo${to}`, amount: 1 + Math.floor(Math.random() * 60) }];
  const started = performance.now();
  const res = await fetch(`${url}/v1/critical/${path}`, {
    method: "POST",
    headers: { ...headers, "content-type": "application/json" },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(10_000),
  });
  await res.text();
  if (!res.ok && res.status !== 409) throw new Error(`POST ${path}: ${res.status}`);
  monitor.recordOperation({
    region,
    dataClass: "critical",
    op: path,
    latencyMs: performance.now() - started,
  });
}
