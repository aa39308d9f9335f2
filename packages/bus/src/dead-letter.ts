// Dead-lettering: a record its consumer gave up on is copied, unchanged, to a dead-letter topic with the
// reason and its origin in headers, so it can be inspected and replayed instead of stalling its partition.
// This is the only header scheme written to a dead-letter topic.
import { MeridianError } from "@meridian/core";
import type { ConsumedMessage } from "./consumer.js";
import type { IdempotentProducer, OutgoingMessage } from "./producer.js";

export const DLQ_HEADERS = {
  /** The error message (at most 2,000 characters). */
  reason: "meridian-dlq-reason",
  /** The error's class name, e.g. `SerializationError`, `RangeError`. */
  errorClass: "meridian-dlq-error-class",
  /** Meridian's error code (`SERIALIZATION`, `INVALID_INPUT`...), `INTERNAL` for any other error. */
  errorCode: "meridian-dlq-error-code",
  sourceTopic: "meridian-dlq-source-topic",
  sourcePartition: "meridian-dlq-source-partition",
  sourceOffset: "meridian-dlq-source-offset",
  /** The consumer group that gave up. */
  consumer: "meridian-dlq-consumer",
  /** How many times the handler failed on the record. */
  attempts: "meridian-dlq-attempts",
  atMs: "meridian-dlq-at-ms",
} as const;

const MAX_REASON_CHARS = 2_000;

export interface DeadLetterTarget {
  topic: string;
  /** Producer to write with; by default the consumer group creates (and closes) its own. */
  producer?: IdempotentProducer;
}

export interface GiveUp {
  error: Error;
  attempts: number;
  consumer: string;
}

export function errorCodeOf(err: Error): string {
  return err instanceof MeridianError ? err.code : "INTERNAL";
}

/** The dead-letter copy of `msg`: same key, value and headers, plus the DLQ_HEADERS. */
export function deadLetterMessage(msg: ConsumedMessage, why: GiveUp, nowMs = Date.now()): OutgoingMessage {
  return {
    key: msg.key ?? "",
    value: msg.value ?? Buffer.alloc(0),
    headers: {
      ...msg.headers,
      [DLQ_HEADERS.reason]: String(why.error.message).slice(0, MAX_REASON_CHARS),
      [DLQ_HEADERS.errorClass]: why.error.name,
      [DLQ_HEADERS.errorCode]: errorCodeOf(why.error),
      [DLQ_HEADERS.sourceTopic]: msg.topic,
      [DLQ_HEADERS.sourcePartition]: String(msg.partition),
      [DLQ_HEADERS.sourceOffset]: msg.offset,
      [DLQ_HEADERS.consumer]: why.consumer,
      [DLQ_HEADERS.attempts]: String(why.attempts),
      [DLQ_HEADERS.atMs]: String(nowMs),
    },
  };
}
