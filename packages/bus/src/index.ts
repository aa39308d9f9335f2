export type { Kafka } from "kafkajs";
export {
  AvroSerde,
  type CacheUpdate,
  type Invalidation,
  type LockEvent,
  loadSchema,
  type MarketTickRecord,
  parseWireHeader,
  SCHEMAS_DIR,
  subjectOf,
} from "./avro.js";
export {
  type ConsumedMessage,
  ConsumerGroup,
  type ConsumerGroupOptions,
  type MessageHandler,
} from "./consumer.js";
export { DLQ_HEADERS, deadLetterTo } from "./dead-letter.js";
export { createKafka, pinoLogCreator } from "./kafka.js";
export { type ConsumedOffsets, IdempotentProducer, type OutgoingMessage } from "./producer.js";
export { type EnsureTopicsOptions, ensureTopics, type TopicNames, topics, topicsFor } from "./topics.js";
