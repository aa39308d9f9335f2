// The load generator as a library (the demo, test/load and bench/write use it).

export { counterMismatches } from "./counter-check.js";
export { type CounterExpectation, CounterLedger } from "./counter-ledger.js";
export { LoadFlagError, LoadOperationError } from "./errors.js";
export { LOAD_USAGE, type LoadFlags, parseLoadFlags } from "./flags.js";
export { LatencyHistogram, type LatencySummary } from "./histogram.js";
export { type LoadRunOptions, type LoadRunResult, runLoad } from "./load-run.js";
export { DEFAULT_MIX, type Mix, parseMix } from "./mix.js";
export { type OpenLoopOptions, type OpenLoopResult, runOpenLoop, type SecondStats } from "./open-loop.js";
export { type AppliedFeed, PairConvergence, type PairRow } from "./pair-convergence.js";
export { convergenceLine, ms, pairMatrix, progressLine, summaryLines } from "./report-lines.js";
export { startClusterRetrying } from "./start-cluster.js";
export { type DirectNode, directTarget, httpTarget, type LoadTarget, type ReadAnswer } from "./targets.js";
export { type PlannedOp, Workload, type WorkloadOptions } from "./workload.js";
