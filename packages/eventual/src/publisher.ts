import type { CacheUpdate, UpdatePublisher } from "./types.js";

/** The parts of @meridian/bus's IdempotentProducer and AvroSerde the publisher needs. */
export interface ProducerLike {
  send(
    topic: string,
    messages: { key: string; value: Buffer; headers?: Record<string, string> }[],
  ): Promise<void>;
}
export interface CacheUpdateEncoder {
  encodeCacheUpdate(update: CacheUpdate): Promise<Buffer>;
}

/** The Kafka message of an encoded update: keyed by cache key (one key's updates stay in one partition). */
export function updateMessage(update: CacheUpdate, value: Buffer) {
  return {
    key: update.key,
    value,
    headers: { "meridian-region": update.region, "meridian-kind": update.kind },
  };
}

/** Publishes updates Avro-encoded, keyed by cache key (one key's updates stay ordered in a partition). */
export function kafkaUpdatePublisher(
  producer: ProducerLike,
  serde: CacheUpdateEncoder,
  topic: string,
): UpdatePublisher {
  return {
    async publish(update) {
      const value = await serde.encodeCacheUpdate(update);
      await producer.send(topic, [updateMessage(update, value)]);
    },
  };
}
