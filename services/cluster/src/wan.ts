// The cluster's WAN layer (option `wan`): TCP proxies with the replicator's latency matrix between every
// pair of regions, in front of each region's Redis, PostgreSQL and home-region RPC endpoint. Critical
// data then has home regions (served at home, forwarded — or read from a local copy for read-mostly
// keys — elsewhere), each home's source of truth is its own PostgreSQL schema, and anti-entropy reaches
// the other regions' Redis across the WAN. The cluster's partition/heal drive both this and the replicator.
import type { MeridianConfig } from "@meridian/core";
import { type CriticalStore, geoCriticalStore } from "@meridian/region-node";
import { type RegionLayout, regionRedisUrl } from "@meridian/service-kit";
import type { Redis } from "@meridian/store";
import {
  addRegionServers,
  createGeoCritical,
  defaultLatencyMatrix,
  type GeoCritical,
  type HomePolicyOptions,
  type LatencyMatrix,
  mergeLatency,
  redisOverWan,
  redisService,
  WanNetwork,
} from "@meridian/wan";

export interface ClusterWanOptions {
  /** Home rules of critical keys (directory, prefixes, read-mostly prefixes); default: hash of the owner id. */
  homes?: Omit<HomePolicyOptions, "regions">;
  /** Bound of a forwarded request and of any command across the WAN (default 3000 ms). */
  timeoutMs?: number;
}

export interface ClusterWan {
  readonly network: WanNetwork;
  readonly geo: GeoCritical | undefined;
  readonly latency: LatencyMatrix;
  criticalFor(region: string): CriticalStore | undefined;
  /** A client in `from` of region `to`'s Redis DB: direct when local, else across the WAN. */
  redisFrom(from: string, to: string): Redis;
  /** Reads a critical key's row from its home's schema (the source of truth the monitor compares with). */
  readonly criticalRows: {
    query(text: string, values: unknown[]): Promise<{ rows: Record<string, unknown>[] }>;
  };
  stop(): Promise<void>;
  purge(): Promise<void>;
}

/** PostgreSQL schema base of a cluster's home schemas (room left for `_<region>`). */
function schemaBase(namespace: string | undefined): string {
  const ns = (namespace ?? "default").toLowerCase().replace(/[^a-z0-9_]/g, "_");
  return `mgeo_${ns}`.slice(0, 48);
}

export async function startClusterWan(
  config: MeridianConfig,
  layout: RegionLayout,
  o: ClusterWanOptions & { latencyMs?: number | Partial<LatencyMatrix>; critical: boolean },
): Promise<ClusterWan> {
  const { regions } = layout;
  const latency = mergeLatency(defaultLatencyMatrix(regions), regions, o.latencyMs);
  const network = new WanNetwork({ regions, latencyMs: (a, b) => latency[a]?.[b] ?? 0 });
  const wanClients: Redis[] = [];
  let geo: GeoCritical | undefined;
  try {
    await addRegionServers(network, { ...config, redisUrls: layout.redisUrls });
    geo = o.critical
      ? await createGeoCritical({
          network,
          pgUrl: config.pgUrl,
          redisUrl: config.redisUrl,
          redisUrls: layout.redisUrls,
          redisDbs: layout.redisDbs,
          keyPrefix: layout.keyPrefix,
          schemaBase: schemaBase(layout.namespace),
          ...(o.homes ? { policy: o.homes } : {}),
          ...(o.timeoutMs !== undefined ? { forwardTimeoutMs: o.timeoutMs } : {}),
        })
      : undefined;
  } catch (err) {
    await network.stop();
    throw err;
  }
  const routers = geo?.routers;
  return {
    network,
    geo,
    latency,
    criticalFor: (region) => (routers?.[region] ? geoCriticalStore(routers[region]) : undefined),
    redisFrom(from, to) {
      const client = redisOverWan(network, from, redisService(to), layout.redisDbs[to]!, {
        ...(o.timeoutMs !== undefined ? { timeoutMs: o.timeoutMs } : {}),
        credentialsOf: regionRedisUrl(layout, to, config.redisUrl),
      });
      wanClients.push(client);
      return client;
    },
    criticalRows: {
      async query(text, values) {
        if (!geo) throw new Error("critical data is off in this cluster");
        const key = String(values[0]);
        return geo.query(routers![regions[0]!]!.homeOf(key).home, text, values);
      },
    },
    async stop() {
      for (const c of wanClients) c.disconnect();
      await geo?.close();
      await network.stop();
    },
    async purge() {
      await geo?.dropSchemas();
    },
  };
}
