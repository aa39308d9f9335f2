// An UpdatePublisher that coalesces concurrent publishes into one produce request. The idempotent
// producer keeps one request in flight (per-key order), so N concurrent writes used to cost N sequential
// round trips; here every publish that arrives while a request is in flight rides in the next one.
// Each publish() still resolves only after Kafka acknowledged (acks=all) the batch holding its update.
import type { AvroSerde, CacheUpdate, IdempotentProducer } from "@meridian/bus";
import type { UpdatePublisher } from "@meridian/eventual";

interface Pending {
  message: { key: string; value: Buffer; headers: Record<string, string> };
  resolve: () => void;
  reject: (err: unknown) => void;
}

export function batchingUpdatePublisher(
  producer: Pick<IdempotentProducer, "send">,
  serde: Pick<AvroSerde, "encodeCacheUpdate">,
  topic: string,
  maxBatch = 500,
): UpdatePublisher {
  let queue: Pending[] = [];
  let sending = false;

  const drain = async (): Promise<void> => {
    if (sending) return;
    sending = true;
    try {
      while (queue.length > 0) {
        const batch = queue.slice(0, maxBatch);
        queue = queue.slice(batch.length);
        try {
          await producer.send(
            topic,
            batch.map((p) => p.message),
          );
          for (const p of batch) p.resolve();
        } catch (err) {
          for (const p of batch) p.reject(err);
        }
      }
    } finally {
      sending = false;
    }
  };

  return {
    async publish(update: CacheUpdate) {
      const value = await serde.encodeCacheUpdate(update);
      await new Promise<void>((resolve, reject) => {
        queue.push({
          message: {
            key: update.key,
            value,
            headers: { "meridian-region": update.region, "meridian-kind": update.kind },
          },
          resolve,
          reject,
        });
        void drain();
      });
    },
  };
}
