// The consumer and the replicator of a cluster started with `externalConsumers` / `externalReplicator`,
// run by the test as real child processes it can SIGKILL and start again. A child whose start-up check
// of Redis times out on the loaded machine exits; spawnService starts it again, as a supervisor
// (systemd, compose) would.
import { type Cluster, type ServiceProcess, spawnService } from "@meridian/cluster";
import { expect } from "vitest";

/** What a child needs to join the cluster's run: its namespace, regions and Redis DBs. */
function clusterEnv(cluster: Cluster): Record<string, string> {
  return {
    MERIDIAN_NAMESPACE: cluster.namespace!,
    MERIDIAN_REGIONS: cluster.layout.regions.join(","),
    MERIDIAN_REDIS_DBS: JSON.stringify(cluster.layout.redisDbs),
  };
}

/** One region's invalidation consumer; ready once it logged that it joined its group. */
export function spawnConsumer(cluster: Cluster, region: string): Promise<ServiceProcess> {
  return spawnService({
    name: "invalidation-consumer",
    service: "invalidation-consumer",
    env: { ...clusterEnv(cluster), MERIDIAN_REGION: region },
    readyMsg: "consumer ready",
  });
}

/** The replicator; ready once its admin HTTP server listens (`readyLine.url`). */
export function spawnReplicator(cluster: Cluster): Promise<ServiceProcess> {
  return spawnService({
    name: "replicator",
    service: "replicator",
    env: clusterEnv(cluster),
    readyMsg: "listening",
  });
}

/** Kills the child without warning (no commit, no leave-group) and checks it died of that signal. */
export async function sigkill(service: ServiceProcess): Promise<number | null> {
  service.child.kill("SIGKILL");
  const code = await service.exited;
  expect(service.child.signalCode).toBe("SIGKILL");
  return code;
}
