// The replicator service: bridges every region's updates topic into the other regions' inbound topics,
// with simulated WAN latency and an admin API to partition / heal regions.
export {
  type ReplicatorHandle,
  type ReplicatorOptions,
  type ReplicatorStatus,
  startReplicator,
} from "./replicator.js";
