// What `meridian demo` takes and returns, and what it needs of a running cluster in either topology.
import { availableParallelism } from "node:os";
import type { ProcessCluster } from "@meridian/cluster";
import type { ConvergenceSummary } from "@meridian/invalidation-consumer";
import type { ConsistencyReport } from "@meridian/monitor";
import type { ProbedCluster } from "../wiring/cluster-probes.js";
import type { Queryable } from "../wiring/strong-http-probe.js";

export interface DemoOptions {
  seconds: number;
  /** Dashboard port (0: any free port). */
  port: number;
  host: string;
  reportsDir: string;
  /** `processes`: every service its own OS process, one redis-server per region (default in-process). */
  topology?: "in-process" | "processes";
  /** Fault to inject mid-run, to show detection: stop one region's consumer for a while. */
  inject?: "none" | "stall";
  /** The WAN layer (default on): cross-region hops pay the latency matrix, critical data has home regions. */
  wan?: boolean;
  stallRegion?: string;
  /** Market-data symbols (default 10 000) and ticks per second over all of them (default 50). */
  symbols?: number;
  ticksPerSecond?: number;
  /** Client operations per second offered over all regions, open loop (default 500 per core, 1000–4000). */
  opsPerSecond?: number;
  webhookUrl?: string;
  print?: (line: string) => void;
}

export interface DemoResult {
  report: ConsistencyReport;
  /** Checks the monitor made, by kind (strong_read, divergence = keys compared). */
  checks: Record<string, number>;
  jsonPath: string;
  htmlPath: string;
  dashboardUrl: string;
}

/** What the demo needs of a running cluster, in either topology. */
export interface DemoCluster extends ProbedCluster {
  readonly regions: Record<string, ProbedCluster["regions"][string] & { readonly url: string }>;
  readonly critical?: { pool: Queryable } | undefined;
  /** Authorization header for the services' write routes. */
  readonly authHeaders: Record<string, string>;
  stopConsumer(region: string): Promise<void>;
  startConsumer(region: string): Promise<void>;
  stop(): Promise<void>;
  /** Per-region propagation from the consumers' applied events (in-process topology only). */
  convergence?(): Record<string, ConvergenceSummary>;
  /** Per-update propagation from the consumer processes' /metrics (processes topology). */
  followAppliedLag?: ProcessCluster["followAppliedLag"];
}

export type Print = (line: string) => void;

// The in-process demo runs all five regions, the consumers, the replicator, market data, the monitor and
// the load in one Node process; its client load goes straight into the nodes (below HTTP), except ledger
// transfers. So what it serves scales with the machine: on the 2-core CI machine, a 60 s run at 1000 ops/s
// (after the ramp) from a clean checkout acknowledged all 52,500 operations, convergence under load p99
// 0.8 s; 2000 ops/s saturated it (1,236–1,524/s served, the forwarded critical calls outwaiting their 3 s
// deadline by the thousand). The default offers 500 ops/s per core, 1000 to 4000 (`--rate` for more).
// `--topology processes` does not take more on 2 cores: its 16 Node processes and five redis-servers need
// more CPU than the machine has.
export function defaultDemoRate(cores: number = availableParallelism()): number {
  return Math.min(4000, Math.max(1000, 500 * cores));
}

export const DEMO_DEFAULTS = {
  symbols: 10_000,
  ticksPerSecond: 50,
  opsPerSecond: defaultDemoRate(),
} as const;
