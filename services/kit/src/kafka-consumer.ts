// A consumer loop with the commit rule every Meridian consumer needs: a message's offset is committed
// only after its handler resolved, partitions are processed in order, and a handler that fails with a
// transient error is retried (with back-off) rather than skipped. Built on kafkajs directly so session
// timeouts are short: a killed consumer's partitions are reassigned in seconds, not the 30 s default.
import { BackendUnavailableError } from "@meridian/core";
import type { Consumer, Kafka, KafkaMessage } from "kafkajs";
import type { Logger } from "./observability.js";

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
  /** Messages of one partition handled at once (different keys only; one key stays in order). Default 1. */
  concurrency?: number;
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
  private crashed: Error | undefined;
  private readonly concurrency: number;
  private joined: Promise<void>;
  private resolveJoined!: () => void;

  constructor(
    kafka: Kafka,
    private readonly opts: RetryingConsumerOptions,
  ) {
    const sessionTimeout = opts.sessionTimeoutMs ?? 6000;
    this.concurrency = Math.max(1, opts.concurrency ?? 1);
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
    // kafkajs restarts a crashed consumer when it can; when it gives up, health checks must say so.
    this.consumer.on(this.consumer.events.CRASH, (e) => {
      opts.logger.error({ err: e.payload.error, restart: e.payload.restart }, "consumer crashed");
      if (!e.payload.restart) this.crashed = e.payload.error;
    });
  }

  /** Throws when the consumer crashed for good (kafkajs will not restart it). */
  check(): void {
    if (this.crashed)
      throw new BackendUnavailableError(`consumer stopped after a crash: ${this.crashed.message}`);
  }

  /** Resolves once the consumer has joined its group (so messages produced from now on will be seen). */
  whenJoined(): Promise<void> {
    return this.joined;
  }

  /**
   * `handler` gets one message at a time, or — with `chains: true` — the run of same-key messages of a
   * window at once (a consumer may fold them into one write). Either way a failure retries it whole.
   */
  async start(
    handler: (msg: ConsumedMessage) => Promise<void>,
    chainHandler?: (msgs: ConsumedMessage[]) => Promise<void>,
  ): Promise<void> {
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
        const handleWithRetry = async (msgs: ConsumedMessage[]): Promise<boolean> => {
          for (let attempt = 1; ; attempt++) {
            try {
              if (chainHandler) await chainHandler(msgs);
              else for (const msg of msgs) await handler(msg);
              return true;
            } catch (err) {
              if (this.stopped || !isRunning()) return false;
              const msg = msgs[0]!;
              log.warn(
                {
                  err,
                  topic: msg.topic,
                  partition: msg.partition,
                  offset: msg.offset,
                  count: msgs.length,
                  attempt,
                },
                "handler failed; retrying",
              );
              await new Promise((r) => setTimeout(r, Math.min(2000, 100 * 2 ** Math.min(attempt, 5))));
              await heartbeat().catch(() => undefined);
            }
          }
        };
        let pending: string | undefined;
        const commit = async (): Promise<void> => {
          if (pending === undefined) return;
          await this.consumer.commitOffsets([
            { topic: batch.topic, partition: batch.partition, offset: (BigInt(pending) + 1n).toString() },
          ]);
          pending = undefined;
          lastCommitAt = Date.now();
        };
        // Messages are handled in windows: within a window, different keys run concurrently and one
        // key's messages run in order; the window's last offset is resolved only when all of it is done.
        const messages = batch.messages;
        for (let i = 0; i < messages.length; i += this.concurrency) {
          if (!isRunning() || isStale() || this.stopped) break;
          const window = messages
            .slice(i, i + this.concurrency)
            .map((m) => toConsumedMessage(batch.topic, batch.partition, m));
          const chains = new Map<string, ConsumedMessage[]>();
          for (const msg of window) {
            const chainKey = msg.key ?? "";
            const chain = chains.get(chainKey);
            if (chain) chain.push(msg);
            else chains.set(chainKey, [msg]);
          }
          const completed = await Promise.all([...chains.values()].map((chain) => handleWithRetry(chain)));
          if (completed.includes(false)) return; // stopping: the unfinished window is re-read later
          // Only now are these offsets safe to commit: their merges (or dead-letterings) are done.
          const last = window[window.length - 1]!.offset;
          pending = last;
          resolveOffset(last);
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
