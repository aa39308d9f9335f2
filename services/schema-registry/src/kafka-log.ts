// The durable store of the registry: a single-partition compacted topic, replayed on start and tailed after.
// Every state change is written to the topic first and applied only when read back, so the in-memory
// state is always exactly the log's (as in Confluent's KafkaStore).
import { randomUUID } from "node:crypto";
import { type Admin, type Consumer, type Kafka, Partitioners, type Producer } from "kafkajs";
import type { Logger } from "pino";
import { storeError } from "./errors.js";

export type RecordHandler = (key: string, value: string | null, offset: bigint) => void;

export class KafkaLog {
  private readonly admin: Admin;
  private readonly producer: Producer;
  private readonly consumer: Consumer;
  private readonly groupId = `schema-registry-reader-${randomUUID()}`;
  private applied = -1n;
  private crashed: string | undefined;
  private readonly waiters: { offset: bigint; resolve: () => void }[] = [];

  constructor(
    kafka: Kafka,
    readonly topic: string,
    private readonly logger: Logger,
  ) {
    this.admin = kafka.admin();
    this.producer = kafka.producer({
      idempotent: true,
      maxInFlightRequests: 1,
      createPartitioner: Partitioners.DefaultPartitioner,
    });
    // Each registry process reads the whole log itself; the group is private and never commits.
    this.consumer = kafka.consumer({ groupId: this.groupId, maxWaitTimeInMs: 500 });
  }

  /** Creates the topic if needed, replays it to its end through `onRecord`, then keeps tailing it. */
  async start(onRecord: RecordHandler, timeoutMs = 60_000): Promise<void> {
    await this.admin.connect();
    // Check first: kafkajs logs a warning for every CreateTopics on an existing topic.
    const exists = (await this.admin.listTopics()).includes(this.topic);
    const created =
      !exists &&
      (await this.admin.createTopics({
        waitForLeaders: true,
        topics: [
          {
            topic: this.topic,
            numPartitions: 1,
            configEntries: [{ name: "cleanup.policy", value: "compact" }],
          },
        ],
      }));
    this.logger.info({ topic: this.topic, created }, "schema log topic ready");
    const [partition] = await whileRetriable(() => this.admin.fetchTopicOffsets(this.topic), timeoutMs);
    const end = BigInt(partition?.high ?? "0") - 1n;
    const low = BigInt(partition?.low ?? "0");

    await this.producer.connect();
    // kafkajs restarts the reader after retriable crashes; one it gives up on makes the registry unhealthy.
    this.consumer.on(this.consumer.events.CRASH, ({ payload }) => {
      if (!payload.restart) this.crashed = payload.error.message;
      this.logger.error({ err: payload.error, restart: payload.restart }, "schema log reader crashed");
    });
    await this.consumer.connect();
    await this.consumer.subscribe({ topic: this.topic, fromBeginning: true });
    await this.consumer.run({
      autoCommit: false,
      eachMessage: async ({ message }) => {
        const offset = BigInt(message.offset);
        onRecord(
          message.key?.toString("utf8") ?? "",
          message.value ? message.value.toString("utf8") : null,
          offset,
        );
        this.applied = offset;
        this.releaseWaiters();
      },
    });
    if (end >= low) await this.waitFor(end, timeoutMs);
    this.logger.info({ topic: this.topic, replayedTo: end.toString() }, "schema log replayed");
  }

  /** Undefined while the log reader runs; the reason once it stopped for good. */
  get failure(): string | undefined {
    return this.crashed;
  }

  /** Appends a record and resolves once it has been read back and applied. */
  async append(key: string, value: string | null, timeoutMs = 30_000): Promise<void> {
    let offset: bigint;
    try {
      const [meta] = await this.producer.send({ topic: this.topic, acks: -1, messages: [{ key, value }] });
      if (!meta?.baseOffset) throw new Error("broker returned no offset");
      offset = BigInt(meta.baseOffset);
    } catch (err) {
      throw storeError((err as Error).message);
    }
    await this.waitFor(offset, timeoutMs);
  }

  private waitFor(offset: bigint, timeoutMs: number): Promise<void> {
    if (this.applied >= offset) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        reject(storeError(`timed out reading offset ${offset} of ${this.topic} back`));
      }, timeoutMs);
      this.waiters.push({
        offset,
        resolve: () => {
          clearTimeout(timer);
          resolve();
        },
      });
    });
  }

  private releaseWaiters(): void {
    for (let i = this.waiters.length - 1; i >= 0; i--) {
      const w = this.waiters[i]!;
      if (this.applied >= w.offset) {
        this.waiters.splice(i, 1);
        w.resolve();
      }
    }
  }

  async stop(): Promise<void> {
    await this.consumer.disconnect().catch(() => {});
    await this.producer.disconnect().catch(() => {});
    // The reader's group held no offsets; remove it so restarts do not pile up empty groups.
    await this.admin.deleteGroups([this.groupId]).catch(() => {});
    await this.admin.disconnect().catch(() => {});
  }
}

/**
 * A topic just created may not be served by its leader yet ("does not host this topic-partition"):
 * kafkajs marks such errors retriable; retry them for at most `timeoutMs`.
 */
async function whileRetriable<T>(call: () => Promise<T>, timeoutMs: number): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await call();
    } catch (err) {
      if (!(err as { retriable?: boolean }).retriable || Date.now() > end) throw err;
      await new Promise((r) => setTimeout(r, 200));
    }
  }
}
