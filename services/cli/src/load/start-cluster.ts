// startCluster, tried again when it fails with a retriable error: on a saturated machine a start-up
// step can stall the event loop past a Redis command's 1 s bound (BackendUnavailableError, retriable),
// and one such stall should not cost a whole load run. Each failed attempt has already stopped what it
// started.
import { isRetriable } from "@meridian/bus";
import { type Cluster, type ClusterOptions, startCluster } from "@meridian/cluster";
import { isConnectionError } from "@meridian/store";

export async function startClusterRetrying(
  opts: ClusterOptions,
  attempts = 3,
  onRetry?: (err: Error, attempt: number) => void,
): Promise<Cluster> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await startCluster(opts);
    } catch (err) {
      // ioredis' own timeout error carries no flag; store's driver-error mapping knows it as connection trouble.
      if (!(isRetriable(err) || isConnectionError(err)) || attempt >= attempts) throw err;
      onRetry?.(err as Error, attempt);
      await new Promise((r) => setTimeout(r, 500 * attempt));
    }
  }
}
