// The demo's client load: per region, a few workers calling the region node's HTTP API — position
// counters and watch lists (important, CRDT-merged), reads of market data, cacheable preferences — and
// reporting each operation's latency and each read's age to the monitor.
import type { ConsistencyMonitor } from "@meridian/monitor";
import { ledgerOperation } from "./ledger-ops.js";

export interface LoadOptions {
  /** Region → base URL of its node. */
  nodes: Record<string, string>;
  /** Sent with every request (the bearer token writes need: `cluster.authHeaders`). */
  headers?: Record<string, string>;
  monitor: ConsistencyMonitor;
  /** Target operations per second per region. */
  opsPerSecondPerRegion?: number;
  symbols: string[];
  accounts?: number;
  onKey?: (key: string) => void;
  /** Also read and write `critical` (strong) balances. */
  critical?: boolean;
  onCriticalKey?: (key: string) => void;
}

export interface LoadHandle {
  stop(): Promise<void>;
  errors(): number;
  operations(): number;
}

export function startLoad(o: LoadOptions): LoadHandle {
  const rate = o.opsPerSecondPerRegion ?? 40;
  const accounts = o.accounts ?? 8;
  let running = true;
  let errors = 0;
  let ops = 0;
  const workers: Promise<void>[] = [];
  const perWorker = 4;
  const pauseMs = (1000 * perWorker) / rate;
  for (const [region, url] of Object.entries(o.nodes)) {
    for (let w = 0; w < perWorker; w++) {
      workers.push(
        (async () => {
          // Stagger workers so requests spread over the interval.
          await sleep((pauseMs * w) / perWorker);
          while (running) {
            const started = Date.now();
            try {
              await oneOperation(region, url, o, accounts);
              ops++;
            } catch {
              errors++;
            }
            await sleep(Math.max(0, pauseMs - (Date.now() - started)));
          }
        })(),
      );
    }
  }
  return {
    async stop() {
      running = false;
      await Promise.all(workers);
    },
    errors: () => errors,
    operations: () => ops,
  };
}

async function oneOperation(region: string, url: string, o: LoadOptions, accounts: number): Promise<void> {
  const roll = Math.random();
  const pick = <T>(xs: T[]) => xs[Math.floor(Math.random() * xs.length)]!;
  if (o.critical && roll < 0.02) return ledgerOperation(region, url, o.headers ?? {}, o.monitor);
  if (o.critical && roll < 0.2) {
    const key = `acct:${Math.floor(Math.random() * accounts)}`;
    if (roll < 0.07) {
      o.onCriticalKey?.(key);
      await call(o, region, "critical", "set", url, "PUT", key, {
        value: { balance: Math.round(roll * 1e6) },
      });
    } else {
      await call(o, region, "critical", "get", url, "GET", key);
    }
    return;
  }
  if (roll < 0.3) {
    const key = `pos:ACCT${Math.floor(Math.random() * accounts)}`;
    o.onKey?.(key);
    await call(o, region, "important", "increment", url, "PUT", key, { op: "increment", by: 1 });
  } else if (roll < 0.4) {
    const key = `watch:desk${Math.floor(Math.random() * 3)}`;
    o.onKey?.(key);
    const body =
      Math.random() < 0.7
        ? { op: "add", element: pick(o.symbols) }
        : { op: "remove", element: pick(o.symbols) };
    await call(o, region, "important", "set-op", url, "PUT", key, body);
  } else if (roll < 0.8) {
    await call(o, region, "important", "get", url, "GET", `md:${pick(o.symbols)}`);
  } else if (roll < 0.9) {
    await call(o, region, "cacheable", "set", url, "PUT", `pref:user${Math.floor(Math.random() * 20)}`, {
      value: { theme: Math.random() < 0.5 ? "dark" : "light" },
    });
  } else {
    await call(o, region, "cacheable", "get", url, "GET", `pref:user${Math.floor(Math.random() * 20)}`);
  }
}

async function call(
  { monitor, headers = {} }: Pick<LoadOptions, "monitor" | "headers">,
  region: string,
  dataClass: string,
  op: string,
  base: string,
  method: "GET" | "PUT",
  key: string,
  body?: unknown,
): Promise<void> {
  const started = performance.now();
  const res = await fetch(`${base}/v1/${dataClass}/${encodeURIComponent(key)}`, {
    method,
    headers: body === undefined ? headers : { ...headers, "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(5000),
  });
  const text = await res.text();
  const latencyMs = performance.now() - started;
  // A read of a key nobody wrote yet is a normal answer, not an error.
  if (!res.ok && !(method === "GET" && res.status === 404))
    throw new Error(`${method} ${key}: ${res.status}`);
  let stalenessMs: number | undefined;
  if (method === "GET" && res.ok) {
    const ageMs = (JSON.parse(text) as { ageMs?: unknown }).ageMs;
    if (typeof ageMs === "number") stalenessMs = ageMs;
  }
  monitor.recordOperation({
    region,
    dataClass,
    op,
    latencyMs,
    ...(stalenessMs !== undefined ? { stalenessMs } : {}),
  });
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
