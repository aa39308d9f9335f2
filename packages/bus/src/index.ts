export type { Kafka } from "kafkajs";
export {
  AvroSerde,
  type CacheUpdate,
  type Invalidation,
  type LockEvent,
  loadSchema,
  type MarketTickRecord,
  parseWireHeader,
  subjectOf,
} from "./avro.js";
export { type BackoffOptions, backoffDelay } from "./backoff.js";
export {
  type BatchHandler,
  type ConsumedMessage,
  ConsumerGroup,
  type ConsumerGroupOptions,
  isRetriable,
  type MessageHandler,
} from "./consumer.js";
export { type HealthSource, registerConsumerMetrics } from "./consumer-metrics.js";
export { type DeadLetterTarget, DLQ_HEADERS, deadLetterMessage, errorCodeOf } from "./dead-letter.js";
export { headersToStrings } from "./headers.js";
export { createKafka, kafkaConnectError, pinoLogCreator } from "./kafka.js";
export {
  type ConsumedOffsets,
  IdempotentProducer,
  type OutgoingMessage,
  type ProducerOptions,
} from "./producer.js";
export {
  assertProgressing,
  type ConsumerHealth,
  type ConsumerSetup,
  type ConsumerState,
  SupervisedConsumer,
  type SupervisorOptions,
} from "./supervisor.js";
export { type EnsureTopicsOptions, ensureTopics, type TopicNames, topics, topicsFor } from "./topics.js";
