// The consistency monitor over the demo's cluster: eventual data by CRDT digests of a bounded sample of
// keys (some market symbols, then keys as they are written), consumer lag from Kafka, strong data by
// sampled reads vs PostgreSQL; alerts printed to the console (and a webhook if given).
import { createKafka } from "@meridian/bus";
import type { Cluster } from "@meridian/cluster";
import type { MeridianConfig } from "@meridian/core";
import { symbolNames } from "@meridian/market-data-producer";
import { type AlertSink, ConsistencyMonitor } from "@meridian/monitor";
import type { Logger } from "pino";
import { Registry } from "prom-client";
import {
  clusterDigestSource,
  consumersStalledIn,
  followAppliedEvents,
  KeyRegistry,
  kafkaConsumerLag,
} from "../wiring/cluster-probes.js";
import { httpCriticalTarget, httpStrongProbe } from "../wiring/strong-http-probe.js";
import type { Cleanups } from "./cleanups.js";
import type { DemoCluster, Print } from "./options.js";

/**
 * Keys the monitor compares each tick in every region: a sample (20 symbols, then keys as they are written
 * or merged), so 10 k symbols and thousands of written keys cost no tens of thousands of reads a tick.
 */
const COMPARED_KEYS = 100;
const COMPARED_SYMBOLS = 20;

export interface DemoMonitor {
  monitor: ConsistencyMonitor;
  registry: Registry;
  /** Eventual keys the monitor compares (the load adds what it writes). */
  keys: KeyRegistry;
  /** Critical keys the strong probe samples. */
  strongKeys: KeyRegistry;
  /** Region → node URL. */
  nodes: Record<string, string>;
  critical: boolean;
}

export async function startDemoMonitor(a: {
  cluster: DemoCluster;
  inProcess: Cluster | undefined;
  config: MeridianConfig;
  namespace: string;
  symbols: number;
  logger: Logger;
  webhookUrl: string | undefined;
  cleanups: Cleanups;
  print: Print;
}): Promise<DemoMonitor> {
  const { cluster, print } = a;
  const regions = cluster.layout.regions;
  const kafka = createKafka(a.config, `meridian-monitor-${a.namespace}`, a.logger);
  const admin = kafka.admin();
  await admin.connect();
  a.cleanups.push(() => admin.disconnect());

  const keys = new KeyRegistry(COMPARED_KEYS);
  for (const s of symbolNames(Math.min(a.symbols, COMPARED_SYMBOLS))) keys.add(`md:${s}`);
  const registry = new Registry();
  const nodes = Object.fromEntries(regions.map((r) => [r, cluster.regions[r]!.url]));
  // The strong tier is on when the cluster runs `critical` data (its PostgreSQL pool is exposed).
  const pool = cluster.critical?.pool;
  const strongKeys = new KeyRegistry(200);
  const headers = cluster.authHeaders;
  const monitor = new ConsistencyMonitor(
    {
      regions,
      eventual: clusterDigestSource(cluster, keys),
      // Processes report a stalled consumer through their own /metrics, not here.
      consumerLag: kafkaConsumerLag(admin, cluster, a.inProcess && consumersStalledIn(a.inProcess)),
      ...(pool
        ? {
            strong: httpStrongProbe({ nodes, pool, keys: () => strongKeys.list(), headers }),
            kv: httpCriticalTarget(nodes, headers),
          }
        : {}),
    },
    { registry, logger: a.logger, intervalMs: 500, strong: { samplesPerTick: 5 } },
  );
  print(
    `[demo] monitor: eventual data by CRDT digests per region (${COMPARED_KEYS} keys sampled)${pool ? ", strong data by sampled reads vs PostgreSQL versions" : " (critical data disabled in this cluster)"}`,
  );
  monitor.setupConsistencyAlerts({
    sinks: [printAlerts(print)],
    ...(a.webhookUrl ? { webhookUrl: a.webhookUrl } : {}),
  });
  // Propagation times per update: the consumers' applied events in process, their lag histograms from
  // /metrics with separate processes (without them the verdict rested on the monitor's digest ticks,
  // seconds apart on a loaded machine).
  if (a.inProcess) a.cleanups.push(followAppliedEvents(a.inProcess, monitor, keys));
  else if (cluster.followAppliedLag) {
    a.cleanups.push(
      cluster.followAppliedLag((e) =>
        monitor.recordPropagation({ from: e.originRegion, to: e.region, lagMs: e.lagMs }, e.atMs),
      ),
    );
  }
  monitor.monitorConsistencyMetrics();
  a.cleanups.push(() => monitor.close());
  return { monitor, registry, keys, strongKeys, nodes, critical: pool !== undefined };
}

function printAlerts(print: Print): AlertSink {
  return {
    send: (e) =>
      print(
        `[alert] ${e.status === "firing" ? "FIRING " : "resolved"} ${e.rule}${Object.keys(e.labels).length ? ` ${JSON.stringify(e.labels)}` : ""} value ${Math.round(e.value * 1000) / 1000} (threshold ${e.threshold})`,
      ),
  };
}
