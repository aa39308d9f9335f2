export {
  type CheckOptions,
  type CheckResult,
  type CheckStatus,
  checkLinearizability,
  describeViolation,
  type LinearizabilityViolation,
  type PartitionReport,
} from "./check.js";
export {
  HistoryRecorder,
  type Json,
  type KvInput,
  type KvOutput,
  keysOf,
  type Operation,
} from "./history.js";
export { canonical, KvModel, type KvState } from "./kv-model.js";
export { type Partition, partitionByKeys } from "./partition.js";
export { type SimpleCheckOutcome, type SimpleHistoryOp, simpleHistoryChecker } from "./suite-adapter.js";
export { type SearchOutcome, searchLinearization } from "./wing-gong.js";
