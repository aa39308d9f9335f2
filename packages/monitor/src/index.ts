// @meridian/monitor — consistency monitoring: metrics, online violation detection, alerts, reports,
// test suites.
export * from "./adapters.js";
export * from "./alerts.js";
export * from "./consistency-monitor.js";
export * from "./divergence.js";
export { type LatencyMapRow, latencyMapRow, renderLatencyMap } from "./latency-map.js";
export * from "./lattice-divergence.js";
export * from "./linearizability/index.js";
export * from "./metrics.js";
export * from "./probes.js";
export * from "./report.js";
export * from "./rules.js";
export * from "./snapshot.js";
export * from "./stats.js";
export * from "./strong-checker.js";
export * from "./suites.js";
export * from "./svg.js";
export * from "./violations.js";
