// `meridian monitor`: the consistency monitor and its dashboard as a service of its own, over regions that
// run elsewhere (containers, the processes topology). It reads each region's Redis (MERIDIAN_REDIS_URLS),
// learns the keys to compare from the regions' updates topics, measures the invalidation consumers' lag,
// raises the alerts, and serves the live dashboard with /metrics and /healthz.
import { AvroSerde, createKafka, SupervisedConsumer, topicsFor } from "@meridian/bus";
import type { MeridianConfig } from "@meridian/core";
import { type Dashboard, startDashboard } from "@meridian/dashboard";
import { ConsistencyMonitor } from "@meridian/monitor";
import { type RegionLayout, regionRedisUrl } from "@meridian/service-kit";
import { createRedis, type Redis } from "@meridian/store";
import pino, { type Logger } from "pino";
import { clusterDigestSource, KeyRegistry, kafkaConsumerLag } from "../wiring/cluster-probes.js";

export interface MonitorServiceOptions {
  config: MeridianConfig;
  layout: RegionLayout;
  port: number;
  host: string;
  logger?: Logger;
  /** How often the monitor compares the regions (default 500 ms). */
  intervalMs?: number;
}

export interface MonitorService {
  readonly url: string;
  readonly monitor: ConsistencyMonitor;
  stop(): Promise<void>;
}

/**
 * Adds every key written in any region (from the updates topics) to `keys`. The bus's supervised
 * consumer, so a crash kafkajs would not recover from is restarted instead of silently ending the follow.
 */
async function followUpdatedKeys(
  config: MeridianConfig,
  layout: RegionLayout,
  keys: KeyRegistry,
  logger: Logger = pino({ name: "meridian-monitor", level: "warn" }),
): Promise<SupervisedConsumer> {
  const kafka = createKafka(config, `meridian-monitor-${layout.namespace ?? "default"}`);
  const ns = layout.namespace ? `${layout.namespace}.` : "";
  const follower = new SupervisedConsumer(kafka, { config: { groupId: `${ns}meridian.monitor` }, logger });
  const serde = new AvroSerde(config.schemaRegistryUrl);
  const topics = topicsFor(layout.namespace);
  await follower.start(async (consumer) => {
    await consumer.subscribe({ topics: layout.regions.map((r) => topics.updates(r)), fromBeginning: false });
    await consumer.run({
      eachMessage: async ({ message }) => {
        if (!message.value) return;
        try {
          const update = (await serde.decode(message.value)) as { key?: unknown };
          if (typeof update.key === "string") keys.add(update.key);
        } catch (err) {
          // A message the monitor cannot read is the consumers' business (they dead-letter it).
          logger.debug({ err }, "monitor: undecodable update skipped");
        }
      },
    });
  });
  return follower;
}

export async function startMonitorService(o: MonitorServiceOptions): Promise<MonitorService> {
  const { layout, config } = o;
  const regions: Record<string, { redis: Redis }> = {};
  for (const r of layout.regions) {
    const redis = createRedis(regionRedisUrl(layout, r, config.redisUrl), { db: layout.redisDbs[r]! });
    // A region whose Redis is down is something to report (its digests go missing), not to crash on.
    redis.on("error", (err) => o.logger?.debug({ err, region: r }, "monitor: region Redis unreachable"));
    regions[r] = { redis };
  }
  const probed = { layout, regions };
  const keys = new KeyRegistry();
  const admin = createKafka(config, `meridian-monitor-admin-${layout.namespace ?? "default"}`).admin();
  await admin.connect();
  const monitor = new ConsistencyMonitor(
    {
      regions: layout.regions,
      eventual: clusterDigestSource(probed, keys),
      consumerLag: kafkaConsumerLag(admin, probed),
    },
    { intervalMs: o.intervalMs ?? 500, ...(o.logger ? { logger: o.logger } : {}) },
  );
  const follower = await followUpdatedKeys(config, layout, keys, o.logger);
  monitor.monitorConsistencyMetrics();
  let dashboard: Dashboard;
  try {
    dashboard = await startDashboard({
      feed: monitor,
      registry: monitor.metrics.registry,
      port: o.port,
      host: o.host,
    });
  } catch (err) {
    await monitor.close();
    await follower.stop();
    await admin.disconnect();
    throw err;
  }
  return {
    url: dashboard.url,
    monitor,
    async stop() {
      await dashboard.close();
      await monitor.close();
      await follower.stop();
      await admin.disconnect();
      for (const { redis } of Object.values(regions)) redis.disconnect();
    },
  };
}
