// The one consumer of Meridian. A record's offset is committed only after its handler resolved or the
// record was dead-lettered; one partition's records are handled in order (one key's, with `concurrency`);
// a record that keeps failing is dead-lettered after a bounded number of attempts, whatever it threw, so
// a poison record cannot stall its partition; only "backend unavailable" is retried without a bound,
// because dead-lettering every record during an outage would empty the stream into the dead-letter topic.
// The kafkajs consumer underneath is supervised: a crash it would not recover from restarts it.
// With a batch handler, each window of records goes to it at once (e.g. one pipelined Redis round trip);
// a record it reports as failed goes through the same per-record attempts and dead-lettering, together
// with the records of its key that follow it, so one key is still handled in order.
import { BackendUnavailableError } from "@meridian/core";
import type { Batch, Kafka } from "kafkajs";
import pino, { type Logger } from "pino";
import { type BackoffOptions, backoffDelay, sleep } from "./backoff.js";
import { type DeadLetterTarget, deadLetterMessage, errorCodeOf } from "./dead-letter.js";
import { headersToStrings } from "./headers.js";
import { IdempotentProducer } from "./producer.js";
import { type ConsumerHealth, SupervisedConsumer } from "./supervisor.js";

export interface ConsumedMessage {
  topic: string;
  partition: number;
  offset: string;
  key: string | null;
  value: Buffer | null;
  headers: Record<string, string>;
}

export type MessageHandler = (msg: ConsumedMessage) => Promise<void>;
/**
 * Handles a window of records (several keys, each key's in offset order) at once. Resolves to one slot
 * per record: undefined = handled, an Error = this record failed (it is then retried alone, and dead-
 * lettered if it keeps failing). Throwing means the whole window failed (e.g. the backend is down).
 * Must be idempotent: after a failure, records of the failed one's key may be handled again.
 */
export type BatchHandler = (msgs: ConsumedMessage[]) => Promise<Array<Error | undefined>>;

export interface ConsumerGroupOptions {
  groupId: string;
  topics: string[];
  /** Where a record goes after maxAttempts failures (the DLQ_HEADERS scheme). */
  deadLetter: DeadLetterTarget;
  fromBeginning?: boolean;
  /** Attempts of a record before it is dead-lettered (default 3). */
  maxAttempts?: number;
  /** First retry delay after a handler failure (doubles up to maxRetryDelayMs). Default 100 ms. */
  retryDelayMs?: number;
  maxRetryDelayMs?: number;
  /** Records of one partition in flight at once (different keys; one key stays in order). Default 1. */
  concurrency?: number;
  /** Records per call of the batch handler (a window of one fetched batch). Default 500. */
  batchSize?: number;
  /** Partitions handled at the same time (each one still in order). Default 3. */
  partitionsConsumedConcurrently?: number;
  /** Commit at most this often within a batch (default 250 ms); always at the batch's end. */
  commitIntervalMs?: number;
  /** Group session (default 6 s: a dead member's partitions move in seconds, not kafkajs' 30 s). */
  sessionTimeoutMs?: number;
  /** How long start() waits for the group join and first fetch before resolving anyway. Default 30 s. */
  joinTimeoutMs?: number;
  /** Back-off between restarts after a crash (default 500 ms → 30 s with jitter). */
  restart?: Partial<BackoffOptions>;
  /** Blocked or down this long counts as stalled in health() (default 30 s). */
  stallAfterMs?: number;
  /**
   * Checks the handler's backends (e.g. Redis PING). Before a failure counts against a record, this runs;
   * if it throws, the failure is the backend's: retried without a bound, never dead-lettered.
   */
  backendCheck?: () => Promise<void>;
  /** Called after each record was dead-lettered (metrics, logs). */
  onDeadLetter?: (msg: ConsumedMessage, err: Error) => void;
  logger?: Logger;
}

/** Errors a retry can cure: the record is fine, a backend is not. */
export function isRetriable(err: unknown): boolean {
  return err instanceof BackendUnavailableError || (err as { retriable?: unknown })?.retriable === true;
}

function asError(err: unknown): Error {
  return err instanceof Error ? err : new Error(String(err));
}

/** The state of one fetched batch while it is handled. */
interface BatchContext {
  alive(): boolean;
  heartbeat(): Promise<void>;
  /** Commits what the batch settled so far (before a record starts blocking the partition). */
  flush(): Promise<void>;
}

export class ConsumerGroup {
  private readonly supervisor: SupervisedConsumer;
  private readonly logger: Logger;
  private readonly abort = new AbortController();
  private handler: MessageHandler | undefined;
  private batchHandler: BatchHandler | undefined;
  private dlqProducer: IdempotentProducer | undefined;
  private deadLettered = 0;

  constructor(
    private readonly kafka: Kafka,
    private readonly opts: ConsumerGroupOptions,
  ) {
    this.logger = opts.logger ?? pino({ name: "meridian-consumer", level: process.env.LOG_LEVEL ?? "warn" });
    const sessionTimeout = opts.sessionTimeoutMs ?? 6_000;
    this.supervisor = new SupervisedConsumer(kafka, {
      config: {
        groupId: opts.groupId,
        sessionTimeout,
        heartbeatInterval: Math.max(300, Math.floor(sessionTimeout / 6)),
        rebalanceTimeout: 10_000,
        maxWaitTimeInMs: 100,
      },
      logger: this.logger,
      ...(opts.restart ? { restart: opts.restart } : {}),
      ...(opts.stallAfterMs !== undefined ? { stallAfterMs: opts.stallAfterMs } : {}),
    });
  }

  get groupId(): string {
    return this.opts.groupId;
  }

  /**
   * Subscribes and starts handling; resolves once joined and positioned (or after joinTimeoutMs).
   * With `batchHandler`, each window of up to `batchSize` records goes to it at once; what it reports
   * failed (or everything, if it throws) is handled one record at a time by `handler`.
   */
  async start(handler: MessageHandler, batchHandler?: BatchHandler): Promise<void> {
    this.handler = handler;
    this.batchHandler = batchHandler;
    let positioned: Promise<void> = Promise.resolve();
    let first = true;
    await this.supervisor.start(async (consumer) => {
      if (first) positioned = this.whenPositioned(consumer);
      first = false;
      for (const topic of this.opts.topics) {
        await consumer.subscribe({ topic, fromBeginning: this.opts.fromBeginning ?? false });
      }
      await consumer.run({
        autoCommit: false,
        eachBatchAutoResolve: false,
        partitionsConsumedConcurrently: this.opts.partitionsConsumedConcurrently ?? 3,
        eachBatch: ({ batch, resolveOffset, heartbeat, isRunning, isStale }) =>
          this.handleBatch(batch, resolveOffset, {
            alive: () => isRunning() && !isStale() && !this.abort.signal.aborted,
            heartbeat,
          }),
      });
    });
    await positioned;
  }

  /** Dead-lettered records since start. */
  deadLetteredCount(): number {
    return this.deadLettered;
  }

  health(): ConsumerHealth {
    return this.supervisor.health();
  }

  /** Called with the cause each time the supervisor replaces a crashed consumer. */
  onRestart(listener: (err: Error) => void): void {
    this.supervisor.onRestart(listener);
  }

  async stop(): Promise<void> {
    this.abort.abort();
    await this.supervisor.stop();
    if (this.dlqProducer && !this.opts.deadLetter.producer) await this.dlqProducer.disconnect();
  }

  // "Started" means positioned: joined the group AND finished a first fetch, which is when kafkajs has
  // resolved each partition's start offset. Without the fetch, a message produced right after start()
  // could fall before a "latest" position resolved later, and be skipped.
  private whenPositioned(consumer: ReturnType<Kafka["consumer"]>): Promise<void> {
    return new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, this.opts.joinTimeoutMs ?? 30_000);
      let joined = false;
      const offJoin = consumer.on(consumer.events.GROUP_JOIN, () => {
        joined = true;
        offJoin();
      });
      const offFetch = consumer.on(consumer.events.FETCH, () => {
        if (!joined) return;
        clearTimeout(timer);
        offFetch();
        resolve();
      });
    });
  }

  private async handleBatch(
    batch: Batch,
    resolveOffset: (offset: string) => void,
    kafkaCtx: Omit<BatchContext, "flush">,
  ): Promise<void> {
    const { topic, partition } = batch;
    const window = Math.max(
      1,
      this.batchHandler ? (this.opts.batchSize ?? 500) : (this.opts.concurrency ?? 1),
    );
    const commitEveryMs = this.opts.commitIntervalMs ?? 250;
    let pending: string | undefined;
    let lastCommitAt = Date.now();
    const flush = async (): Promise<void> => {
      const last = pending;
      pending = undefined;
      lastCommitAt = Date.now();
      await this.commit(topic, partition, last);
    };
    const ctx: BatchContext = { ...kafkaCtx, flush };
    for (let i = 0; i < batch.messages.length; i += window) {
      if (!ctx.alive()) break;
      const msgs = batch.messages.slice(i, i + window).map(
        (m): ConsumedMessage => ({
          topic,
          partition,
          offset: m.offset,
          key: m.key ? m.key.toString("utf8") : null,
          value: m.value,
          headers: headersToStrings(m.headers),
        }),
      );
      const chains = await this.viaBatchHandler(msgs, [...chainsByKey(msgs).values()]);
      const done = await Promise.all(chains.map((chain) => this.settle(chain, ctx)));
      if (done.includes(false)) break; // stopping or revoked: the unfinished window is read again later
      // Only now are these offsets safe to commit: every record of the window was handled or dead-lettered.
      pending = msgs[msgs.length - 1]!.offset;
      resolveOffset(pending);
      if (Date.now() - lastCommitAt >= commitEveryMs) {
        await flush();
        await ctx.heartbeat();
      }
    }
    await flush();
  }

  /**
   * Gives the window to the batch handler; returns what is left to handle one by one: of each key, the
   * first failed record and every later one (so the key stays in order); everything if the call threw.
   */
  private async viaBatchHandler(
    msgs: ConsumedMessage[],
    chains: ConsumedMessage[][],
  ): Promise<ConsumedMessage[][]> {
    if (!this.batchHandler) return chains;
    let results: Array<Error | undefined>;
    try {
      results = await this.batchHandler(msgs);
    } catch (err) {
      this.logger.debug({ err, count: msgs.length }, "batch handler failed; handling records one by one");
      return chains;
    }
    const failed = new Set(msgs.filter((_, i) => results[i] !== undefined));
    if (failed.size === 0) return [];
    return chains
      .map((chain) =>
        chain.slice(
          Math.max(
            0,
            chain.findIndex((m) => failed.has(m)),
          ),
        ),
      )
      .filter((chain) => chain.some((m) => failed.has(m)));
  }

  /** Handles one key's records in order; false when the batch was abandoned (stop or rebalance). */
  private async settle(chain: ConsumedMessage[], ctx: BatchContext): Promise<boolean> {
    for (const msg of chain) if (!(await this.settleOne(msg, ctx))) return false;
    return true;
  }

  private async settleOne(msg: ConsumedMessage, ctx: BatchContext): Promise<boolean> {
    const slot = `${msg.topic}:${msg.partition}:${msg.key ?? ""}`;
    const maxAttempts = Math.max(1, this.opts.maxAttempts ?? 3);
    for (let attempt = 1; ; attempt++) {
      try {
        await this.handler!(msg);
        this.supervisor.setBlocked(slot, false);
        return true;
      } catch (caught) {
        const err = await this.classify(asError(caught));
        if (!isRetriable(err) && attempt >= maxAttempts) {
          const dead = await this.deadLetter(msg, err, attempt, ctx);
          this.supervisor.setBlocked(slot, !dead);
          return dead;
        }
        this.supervisor.setBlocked(slot, true);
        if (attempt === 1) await ctx.flush();
        if (!(await this.backOff(msg, err, attempt, ctx))) return false;
      }
    }
  }

  /** The error to act on: a BackendUnavailableError when the backend check fails, else `err`. */
  private async classify(err: Error): Promise<Error> {
    if (isRetriable(err) || !this.opts.backendCheck) return err;
    try {
      await this.opts.backendCheck();
      return err;
    } catch (down) {
      return down instanceof BackendUnavailableError
        ? down
        : new BackendUnavailableError(`backend check failed: ${asError(down).message}`);
    }
  }

  /** Waits before the next attempt; false when the batch must be abandoned. */
  private async backOff(
    msg: ConsumedMessage,
    err: Error,
    attempt: number,
    ctx: BatchContext,
  ): Promise<boolean> {
    const delayMs = backoffDelay(attempt, {
      initialMs: this.opts.retryDelayMs ?? 100,
      maxMs: this.opts.maxRetryDelayMs ?? 5_000,
      jitter: 0.2,
    });
    this.logger.warn(
      { err, topic: msg.topic, partition: msg.partition, offset: msg.offset, attempt, retryInMs: delayMs },
      "handler failed; record will be retried",
    );
    await sleep(delayMs, this.abort.signal);
    if (!ctx.alive()) return false;
    try {
      await ctx.heartbeat();
    } catch {
      return false; // rebalance: the partition may belong to another member now
    }
    return ctx.alive();
  }

  /** Copies the record to the dead-letter topic, retrying the send until it succeeds or the batch ends. */
  private async deadLetter(
    msg: ConsumedMessage,
    err: Error,
    attempts: number,
    ctx: BatchContext,
  ): Promise<boolean> {
    const target = this.opts.deadLetter;
    this.dlqProducer ??= target.producer ?? new IdempotentProducer(this.kafka);
    const producer = this.dlqProducer;
    const copy = deadLetterMessage(msg, { error: err, attempts, consumer: this.opts.groupId });
    for (let attempt = 1; ctx.alive(); attempt++) {
      try {
        await producer.send(target.topic, [copy]);
        this.deadLettered += 1;
        this.opts.onDeadLetter?.(msg, err);
        this.logger.warn(
          { code: errorCodeOf(err), reason: err.message.slice(0, 200), topic: msg.topic, offset: msg.offset },
          "record dead-lettered",
        );
        return true;
      } catch (sendErr) {
        this.logger.warn({ err: sendErr, offset: msg.offset }, "dead-letter send failed; retrying");
        await sleep(backoffDelay(attempt, { initialMs: 200, maxMs: 5_000, jitter: 0.2 }), this.abort.signal);
      }
    }
    return false;
  }

  /** Commits "next to read = last + 1"; nothing when no record was settled. */
  private async commit(topic: string, partition: number, last: string | undefined): Promise<void> {
    if (last === undefined) return;
    try {
      await this.supervisor
        .current()
        .commitOffsets([{ topic, partition, offset: (BigInt(last) + 1n).toString() }]);
      this.supervisor.progressed();
    } catch (err) {
      // A lost commit (rebalance) means redelivery, never loss: the next owner starts at the last commit.
      this.logger.warn({ err, topic, partition, offset: last }, "offset commit failed");
    }
  }
}

/** Records grouped by key, each group in offset order (keys are independent; one key is ordered). */
function chainsByKey(msgs: ConsumedMessage[]): Map<string, ConsumedMessage[]> {
  const chains = new Map<string, ConsumedMessage[]>();
  for (const msg of msgs) {
    const chain = chains.get(msg.key ?? "");
    if (chain) chain.push(msg);
    else chains.set(msg.key ?? "", [msg]);
  }
  return chains;
}
