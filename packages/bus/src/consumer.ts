// Consumer group with manual commits: a message's offset is committed only after the handler resolved for it.
// A handler failure rewinds the partition to that message and retries it after a back-off, so nothing is
// skipped and one partition's (one key's) messages are handled in order.
import { BackendUnavailableError } from "@meridian/core";
import type { Consumer, IHeaders, Kafka } from "kafkajs";
import pino, { type Logger } from "pino";

export interface ConsumedMessage {
  topic: string;
  partition: number;
  offset: string;
  key: string | null;
  value: Buffer | null;
  headers: Record<string, string>;
}

export type MessageHandler = (msg: ConsumedMessage) => Promise<void>;

export interface ConsumerGroupOptions {
  groupId: string;
  topics: string[];
  fromBeginning?: boolean;
  /** First retry delay after a handler failure (doubles up to maxRetryDelayMs). Default 100 ms. */
  retryDelayMs?: number;
  maxRetryDelayMs?: number;
  /** With onGiveUp: after this many failed attempts of one message, give up on it (default: never). */
  maxAttempts?: number;
  /** Called with a message given up on (e.g. `deadLetterTo(...)`); the message is committed after it resolved. */
  onGiveUp?: (msg: ConsumedMessage, err: Error) => Promise<void>;
  /** Partitions handled at the same time (each one still in order). Default 3. */
  partitionsConsumedConcurrently?: number;
  /** How long start() waits for the group join and first fetch before resolving anyway. Default 30 s. */
  joinTimeoutMs?: number;
  logger?: Logger;
}

export function headersToStrings(headers: IHeaders | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers ?? {})) {
    if (value === undefined) continue;
    const first = Array.isArray(value) ? value[0] : value;
    if (first !== undefined) out[name] = Buffer.isBuffer(first) ? first.toString("utf8") : String(first);
  }
  return out;
}

/** Exponential back-off for the n-th consecutive failure (n ≥ 1). */
export function retryDelay(failures: number, initialMs: number, maxMs: number): number {
  return Math.min(maxMs, initialMs * 2 ** Math.max(0, failures - 1));
}

export class ConsumerGroup {
  private readonly consumer: Consumer;
  private readonly logger: Logger;
  private readonly failures = new Map<string, { offset: string; count: number }>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private stopping = false;

  constructor(
    kafka: Kafka,
    private readonly opts: ConsumerGroupOptions,
  ) {
    this.consumer = kafka.consumer({ groupId: opts.groupId, maxWaitTimeInMs: 500 });
    this.logger = opts.logger ?? pino({ name: "meridian-consumer", level: process.env.LOG_LEVEL ?? "warn" });
  }

  /** Subscribes and starts handling; resolves once joined and positioned (or after joinTimeoutMs). */
  async start(handler: MessageHandler): Promise<void> {
    try {
      await this.consumer.connect();
      for (const topic of this.opts.topics) {
        await this.consumer.subscribe({ topic, fromBeginning: this.opts.fromBeginning ?? false });
      }
    } catch (err) {
      throw new BackendUnavailableError(`Kafka consumer cannot start: ${(err as Error).message}`, {
        backend: "kafka",
      });
    }
    // "Started" means positioned: joined the group AND finished a first fetch, which is when kafkajs has
    // resolved each partition's start offset. Without the fetch, a message produced right after start()
    // could fall before a "latest" position resolved later, and be skipped.
    const positioned = new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, this.opts.joinTimeoutMs ?? 30_000);
      let joined = false;
      const offJoin = this.consumer.on(this.consumer.events.GROUP_JOIN, () => {
        joined = true;
        offJoin();
      });
      const offFetch = this.consumer.on(this.consumer.events.FETCH, () => {
        if (!joined) return;
        clearTimeout(timer);
        offFetch();
        resolve();
      });
    });
    await this.consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      // Partitions are independent (order is per key, so per partition): handle them side by side.
      partitionsConsumedConcurrently: this.opts.partitionsConsumedConcurrently ?? 3,
      eachBatch: async ({ batch, resolveOffset, heartbeat, pause, isRunning, isStale }) => {
        const { topic, partition } = batch;
        const slot = `${topic}:${partition}`;
        let lastHandled: string | undefined;
        for (const message of batch.messages) {
          if (!isRunning() || isStale()) break;
          const msg: ConsumedMessage = {
            topic,
            partition,
            offset: message.offset,
            key: message.key ? message.key.toString("utf8") : null,
            value: message.value,
            headers: headersToStrings(message.headers),
          };
          try {
            await handler(msg);
          } catch (err) {
            if (!(await this.giveUp(slot, msg, err as Error))) {
              await this.commit(topic, partition, lastHandled);
              this.retryLater(slot, msg, pause, err as Error);
              return;
            }
          }
          this.failures.delete(slot);
          lastHandled = message.offset;
          resolveOffset(message.offset); // moves the fetch position only; autoCommit is off
          await heartbeat();
        }
        // One commit per batch and partition, covering only messages whose handler resolved.
        await this.commit(topic, partition, lastHandled);
      },
    });
    await positioned;
  }

  /** Failures in a row of the message at the head of a partition (a different offset starts at 0). */
  private failuresOf(slot: string, offset: string): number {
    const f = this.failures.get(slot);
    return f && f.offset === offset ? f.count : 0;
  }

  /**
   * After maxAttempts failures, hands the message to onGiveUp (e.g. a dead-letter producer); once that
   * resolved the message counts as handled and is committed. If onGiveUp throws, the message is retried.
   */
  private async giveUp(slot: string, msg: ConsumedMessage, err: Error): Promise<boolean> {
    const { maxAttempts, onGiveUp } = this.opts;
    if (!maxAttempts || !onGiveUp || this.failuresOf(slot, msg.offset) + 1 < maxAttempts) return false;
    try {
      await onGiveUp(msg, err);
    } catch (giveUpErr) {
      this.logger.warn({ err: giveUpErr, offset: msg.offset }, "onGiveUp failed; message will be retried");
      return false;
    }
    this.logger.warn(
      { err, topic: msg.topic, partition: msg.partition, offset: msg.offset },
      "gave up on message",
    );
    return true;
  }

  private retryLater(slot: string, msg: ConsumedMessage, pause: () => () => void, err: Error): void {
    const failures = this.failuresOf(slot, msg.offset) + 1;
    this.failures.set(slot, { offset: msg.offset, count: failures });
    const delay = retryDelay(failures, this.opts.retryDelayMs ?? 100, this.opts.maxRetryDelayMs ?? 5_000);
    this.logger.warn(
      { err, topic: msg.topic, partition: msg.partition, offset: msg.offset, failures, retryInMs: delay },
      "handler failed; message will be retried",
    );
    // Rewind to the failed message, then pause the partition for the back-off (kafkajs stops this batch).
    this.consumer.seek({ topic: msg.topic, partition: msg.partition, offset: msg.offset });
    const resume = pause();
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      if (!this.stopping) resume();
    }, delay);
    this.timers.add(timer);
  }

  /** Commits "next to read = lastHandled + 1"; nothing when no message was handled. */
  private async commit(topic: string, partition: number, lastHandled: string | undefined): Promise<void> {
    if (lastHandled === undefined) return;
    try {
      await this.consumer.commitOffsets([
        { topic, partition, offset: (BigInt(lastHandled) + 1n).toString() },
      ]);
    } catch (err) {
      // A lost commit (rebalance) means redelivery, never loss: the next owner starts at the last committed offset.
      this.logger.warn({ err, topic, partition, offset: lastHandled }, "offset commit failed");
    }
  }

  async stop(): Promise<void> {
    this.stopping = true;
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    await this.consumer.disconnect();
  }
}
