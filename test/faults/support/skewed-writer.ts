// A region's eventual writer whose hybrid logical clock reads a skewed physical clock. The region node
// builds its EventualConsistencyCache with the machine clock; this is the same cache over the same
// region's Redis and updates topic, with the clock source injected — as a region whose host clock is off.
import { IdempotentProducer, topicsFor } from "@meridian/bus";
import { EventualConsistencyCache, kafkaUpdatePublisher } from "@meridian/eventual";
import { crdtTypeForKey } from "@meridian/region-node";
import { createRedis } from "@meridian/store";
import type { RegionWriter } from "./eventual-load.js";
import type { FaultCluster } from "./fault-cluster.js";

export interface SkewedWriter {
  cache: EventualConsistencyCache;
  /** Load writer: the body as the HTTP API takes it ({op,by} / {op,element} / {value}). */
  writer: RegionWriter;
  close(): Promise<void>;
}

export async function skewedWriter(
  cluster: FaultCluster,
  region: string,
  skewMs: number,
): Promise<SkewedWriter> {
  const producer = new IdempotentProducer(cluster.kafka);
  await producer.connect();
  const redis = createRedis(cluster.servers.of(region).url);
  const publisher = kafkaUpdatePublisher(
    producer,
    cluster.serde,
    topicsFor(cluster.namespace).updates(region),
  );
  const cache = new EventualConsistencyCache(redis, publisher, {
    region,
    keyPrefix: cluster.layout.keyPrefix,
    crdtTypeFor: crdtTypeForKey,
    now: () => Date.now() + skewMs,
  });
  return {
    cache,
    writer: async (key, body) => {
      const b = body as { value?: unknown; op?: string };
      await cache.setWithEventualConsistency(key, b.op === undefined ? b.value : body);
      return 200;
    },
    async close() {
      await producer.disconnect().catch(() => undefined);
      redis.disconnect();
    },
  };
}
