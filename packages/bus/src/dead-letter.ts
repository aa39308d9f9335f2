// Dead-lettering: a message the consumer gave up on is copied to a dead-letter topic with the reason and
// its origin in headers, so it can be inspected and replayed instead of blocking its partition forever.
import type { ConsumedMessage } from "./consumer.js";
import type { IdempotentProducer } from "./producer.js";

export const DLQ_HEADERS = {
  reason: "dlq.reason",
  error: "dlq.error",
  sourceTopic: "dlq.source.topic",
  sourcePartition: "dlq.source.partition",
  sourceOffset: "dlq.source.offset",
  at: "dlq.at",
} as const;

/** An `onGiveUp` for ConsumerGroup that sends the message, unchanged, to `topic` (key null → ""). */
export function deadLetterTo(producer: IdempotentProducer, topic: string) {
  return async (msg: ConsumedMessage, err: Error): Promise<void> => {
    const code = (err as { code?: unknown }).code;
    await producer.send(topic, [
      {
        key: msg.key ?? "",
        value: msg.value ?? Buffer.alloc(0),
        headers: {
          ...msg.headers,
          [DLQ_HEADERS.reason]: err.message.slice(0, 2_000),
          [DLQ_HEADERS.error]: typeof code === "string" ? `${err.name}:${code}` : err.name,
          [DLQ_HEADERS.sourceTopic]: msg.topic,
          [DLQ_HEADERS.sourcePartition]: String(msg.partition),
          [DLQ_HEADERS.sourceOffset]: msg.offset,
          [DLQ_HEADERS.at]: new Date().toISOString(),
        },
      },
    ]);
  };
}
