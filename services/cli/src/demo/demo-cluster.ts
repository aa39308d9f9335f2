// Starts the demo's cluster in the chosen topology: in this process (startCluster, with the WAN layer
// and the consumers' applied events) or as OS processes (startProcessCluster).
import { type Cluster, type startCluster, startProcessCluster } from "@meridian/cluster";
import { startClusterRetrying } from "../load/start-cluster.js";
import type { DemoCluster, DemoOptions } from "./options.js";

export async function startDemoCluster(
  o: DemoOptions,
  opts: Parameters<typeof startCluster>[0] & object,
): Promise<{ cluster: DemoCluster; inProcess?: Cluster }> {
  if (o.topology === "processes") {
    const { regions, namespace, config, marketData } = opts;
    return {
      cluster: await startProcessCluster({
        ...(regions ? { regions } : {}),
        ...(namespace ? { namespace } : {}),
        ...(config ? { config } : {}),
        ...(marketData !== undefined ? { marketData } : {}),
      }),
    };
  }
  const inProcess = await startClusterRetrying(opts);
  return { cluster: inProcess, inProcess };
}
