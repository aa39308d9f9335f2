// @meridian/cli — the `meridian` command (demo, suites, check, report) and the demo it runs.
export { checkHistoryFile } from "./check.js";
export { type DemoOptions, runDemo } from "./demo/run-demo.js";
export * from "./load/index.js";
export {
  type MonitorService,
  type MonitorServiceOptions,
  startMonitorService,
} from "./monitor/monitor-service.js";
export { runSuitesCommand } from "./suites.js";
export { consumersStalledIn, kafkaConsumerLag } from "./wiring/cluster-probes.js";
