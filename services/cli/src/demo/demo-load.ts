// The demo's client load: `meridian load`'s open-loop generator at thousands of operations per second
// over every region's node (LWW sets and PN-counter increments on `important` data, reads, a little
// `cacheable` and — when the cluster runs it — `critical` data), each acknowledged operation reported
// to the monitor with its latency (and a read's age), written keys added to what the monitor compares.
import type { LoadFigures } from "@meridian/dashboard";
import type { ConsistencyMonitor } from "@meridian/monitor";
import { type LoadRunResult, runLoad } from "../load/load-run.js";
import { DEFAULT_MIX, parseMix } from "../load/mix.js";
import type { SecondStats } from "../load/open-loop.js";
import type { PairConvergence } from "../load/pair-convergence.js";
import { type DirectNode, directExceptLedger, directTarget, httpTarget } from "../load/targets.js";
import { Workload } from "../load/workload.js";
import type { KeyRegistry } from "../wiring/cluster-probes.js";

export interface DemoLoadOptions {
  nodes: Record<string, string>;
  /**
   * The in-process topology's nodes: operations go straight into them (their code path below HTTP), so
   * the offered rate is not capped by five HTTP servers and their client sharing one event loop.
   */
  direct?: Record<string, DirectNode>;
  headers: Record<string, string>;
  monitor: ConsistencyMonitor;
  keys: KeyRegistry;
  strongKeys: KeyRegistry;
  critical: boolean;
  /** Fenced ledger transfers (the nodes' ledger routes; not served when critical data goes through the WAN's home regions). */
  ledger: boolean;
  opsPerSecond: number;
  durationMs: number;
  tag: string;
}

export interface DemoLoad {
  /** The last second's figures (undefined before the first second). */
  latest(): SecondStats | undefined;
  /** Stops sending; resolves with the run once what is in flight has answered. */
  stop(): Promise<LoadRunResult>;
  readonly done: Promise<LoadRunResult>;
}

const OP_NAMES = { set: "set", incr: "increment", get: "get", transfer: "transfer" } as const;
// Fenced ledger transfers take distributed locks on the nodes: they feed the lock wait/hold metrics.
const DEMO_MIX = `${DEFAULT_MIX},critical:transfer=2`;

/**
 * A freshly started broker and a cold process take the first seconds' load at a fraction of their speed
 * (measured from a clean checkout: saturated for ~20 s at 1000 ops/s, then p50 ~90 ms), so the rate
 * climbs to its target over the first quarter of the run, at most 15 s.
 */
export function demoRampMs(durationMs: number): number {
  return Math.min(15_000, durationMs / 4);
}

export function startDemoLoad(o: DemoLoadOptions): DemoLoad {
  const spec = DEMO_MIX.split(",")
    .filter((e) => o.critical || !e.startsWith("critical:"))
    .filter((e) => o.ledger || !e.startsWith("critical:transfer"))
    .join(",");
  const abort = new AbortController();
  let latest: SecondStats | undefined;
  const http = httpTarget({ nodes: o.nodes, headers: o.headers, readAges: true });
  const done = runLoad({
    target: o.direct ? directExceptLedger(directTarget(o.direct), http) : http,
    workload: new Workload({ regions: Object.keys(o.nodes), mix: parseMix(spec), tag: o.tag }),
    ratePerSecond: o.opsPerSecond,
    durationMs: o.durationMs,
    // A bounded pressure: direct calls wait for Kafka's ack (tens of ms on a busy machine), so thousands
    // per second need a few hundred in flight; more would only queue inside this one process, where a
    // forwarded critical call then outwaits its deadline. Past what the machine serves, operations not
    // sent within a second of their due time are shed (counted), as a client with a deadline would.
    maxInFlight: o.direct ? 256 : 64,
    shedAfterMs: 1000,
    rampMs: demoRampMs(o.durationMs),
    drainMs: 5000,
    signal: abort.signal,
    onSecond: (s) => {
      latest = s;
    },
    onAcknowledged: (op, latencyMs, answer) => {
      if (op.kind !== "get" && op.dataClass === "important") o.keys.add(op.key);
      if (op.kind === "set" && op.dataClass === "critical") o.strongKeys.add(op.key);
      o.monitor.recordOperation({
        region: op.region,
        dataClass: op.dataClass,
        op: OP_NAMES[op.kind],
        latencyMs,
        ...(answer?.ageMs !== undefined ? { stalenessMs: answer.ageMs } : {}),
      });
    },
  });
  return {
    latest: () => latest,
    done,
    stop() {
      abort.abort();
      return done;
    },
  };
}

/** What the dashboard's "convergence under load" table shows: every pair so far and the last second. */
export function loadFigures(
  regions: readonly string[],
  pairs: PairConvergence | undefined,
  load: DemoLoad | undefined,
): LoadFigures | undefined {
  if (!pairs) return undefined;
  const s = load?.latest();
  return {
    regions,
    pairs: pairs.rows(),
    ...(s
      ? { load: { offered: s.offered, achieved: s.achieved, errors: s.errors, p99Ms: s.latency.p99Ms } }
      : {}),
  };
}
