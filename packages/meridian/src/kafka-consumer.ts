// A consumer loop with the commit rule every Meridian consumer needs: a message's offset is committed
// only after its handler resolved, partitions are processed in order, and a handler that fails with a
// transient error is retried (with back-off) rather than skipped. Built on kafkajs directly so session
// timeouts are short: a killed consumer's partitions are reassigned in seconds, not the 30 s default.
import type { Consumer, Kafka, KafkaMessage } from "kafkajs";
import type { Logger } from "./service/observability.js";

export interface ConsumedMessage {
  topic: string;
  partition: number;
  offset: string;
  key: string | null;
  value: Buffer | null;
  headers: Record<string, string>;
}

export interface RetryingConsumerOptions {
  groupId: string;
  topics: string[];
  fromBeginning?: boolean;
  sessionTimeoutMs?: number;
  /** Commit at most this often while a batch is processed (default 250 ms); always at batch end. */
  commitIntervalMs?: number;
  logger: Logger;
}

export function toConsumedMessage(topic: string, partition: number, m: KafkaMessage): ConsumedMessage {
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(m.headers ?? {})) {
    if (v === undefined) continue;
    const first = Array.isArray(v) ? v[0] : v;
    headers[k] = Buffer.isBuffer(first) ? first.toString("utf8") : String(first);
  }
  return {
    topic,
    partition,
    offset: m.offset,
    key: m.key ? m.key.toString("utf8") : null,
    value: m.value,
    headers,
  };
}

export class RetryingConsumer {
  private readonly consumer: Consumer;
  private stopped = false;
  private joined: Promise<void>;
  private resolveJoined!: () => void;

  constructor(
    kafka: Kafka,
    private readonly opts: RetryingConsumerOptions,
  ) {
    const sessionTimeout = opts.sessionTimeoutMs ?? 6000;
    this.consumer = kafka.consumer({
      groupId: opts.groupId,
      sessionTimeout,
      heartbeatInterval: Math.max(300, Math.floor(sessionTimeout / 6)),
      rebalanceTimeout: 10_000,
      maxWaitTimeInMs: 100,
    });
    this.joined = new Promise((resolve) => {
      this.resolveJoined = resolve;
    });
    this.consumer.on(this.consumer.events.GROUP_JOIN, () => this.resolveJoined());
  }

  /** Resolves once the consumer has joined its group (so messages produced from now on will be seen). */
  whenJoined(): Promise<void> {
    return this.joined;
  }

  async start(handler: (msg: ConsumedMessage) => Promise<void>): Promise<void> {
    const log = this.opts.logger;
    await this.consumer.connect();
    await this.consumer.subscribe({
      topics: this.opts.topics,
      fromBeginning: this.opts.fromBeginning ?? true,
    });
    const commitEvery = this.opts.commitIntervalMs ?? 250;
    await this.consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: 3,
      eachBatch: async ({ batch, heartbeat, isRunning, isStale, resolveOffset }) => {
        let lastCommitAt = Date.now();
        let pending: string | undefined;
        const commit = async (): Promise<void> => {
          if (pending === undefined) return;
          await this.consumer.commitOffsets([
            { topic: batch.topic, partition: batch.partition, offset: (BigInt(pending) + 1n).toString() },
          ]);
          pending = undefined;
          lastCommitAt = Date.now();
        };
        for (const m of batch.messages) {
          if (!isRunning() || isStale() || this.stopped) break;
          const msg = toConsumedMessage(batch.topic, batch.partition, m);
          for (let attempt = 1; ; attempt++) {
            try {
              await handler(msg);
              break;
            } catch (err) {
              if (this.stopped || !isRunning()) return;
              log.warn(
                { err, topic: msg.topic, partition: msg.partition, offset: msg.offset, attempt },
                "handler failed; retrying",
              );
              await new Promise((r) => setTimeout(r, Math.min(2000, 100 * 2 ** Math.min(attempt, 5))));
              await heartbeat();
            }
          }
          // Only now is this offset safe to commit: its merge (or dead-lettering) is done.
          pending = m.offset;
          resolveOffset(m.offset);
          if (Date.now() - lastCommitAt >= commitEvery) {
            await commit();
            await heartbeat();
          }
        }
        await commit();
      },
    });
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.consumer.disconnect();
  }
}
