// Collects concurrent writes per key and hands them to a batch writer, a few batches at a time.
//
// The flush window: a write that finds a free batch slot is flushed on the next event-loop turn
// (`windowMs` 0, the default) or after `windowMs`; writes that arrive while every slot is busy wait and
// form the next batch. So a lone write pays one event-loop turn (plus windowMs) of latency; under load a
// write waits at most for the batches ahead of it, which is what makes one Redis round trip and one Kafka
// send carry many writes. Up to `maxBatchesInFlight` batches (default 2) are in the batch writer at once,
// so one batch's CPU work in this process overlaps the previous one's script run in Redis; their keys are
// disjoint (a key with a batch in flight stays queued until that batch is done), so each key's writes
// reach Redis, and their publishes the queue, in the order they were made.
//
// Bounded: at most `maxPending` writes accepted and not yet settled (queued, in Redis or waiting for the
// Kafka ack); past it a write is refused with OverloadedError before anything is written.
import { InvalidInputError, OverloadedError } from "@meridian/core";

export interface CoalescerOptions {
  /** Extra wait before flushing a batch that starts from idle (default 0: the next event-loop turn). */
  windowMs?: number;
  /** Distinct keys per batch (default 128: smaller batches let one batch's Kafka send overlap the next one's Redis work). */
  maxBatchKeys?: number;
  /** Writes accepted and not settled beyond which writes get OverloadedError (default 10 000). */
  maxPending?: number;
  /** Batches in the batch writer at once, on disjoint keys (default 2). */
  maxBatchesInFlight?: number;
}

/** What the batch writer made of a batch: per key a result or an error, and when the results are durable. */
export interface BatchWritten<R> {
  results: Map<string, { value: R } | { error: unknown }>;
  /** Resolves once every result is published (Kafka acked); a rejection fails every successful key. */
  durable: Promise<void>;
}

export type BatchWriter<R> = (batch: Map<string, unknown[]>) => Promise<BatchWritten<R>>;

interface Waiter<R> {
  resolve: (value: R) => void;
  reject: (err: unknown) => void;
}

interface KeyWrites<R> {
  values: unknown[];
  waiters: Waiter<R>[];
}

export class WriteCoalescer<R> {
  private readonly windowMs: number;
  private readonly maxBatchKeys: number;
  private readonly maxPending: number;
  private readonly maxBatchesInFlight: number;
  private queued = new Map<string, KeyWrites<R>>();
  /** Keys of the batches in the batch writer: their next writes wait for the next batch. */
  private readonly busyKeys = new Set<string>();
  private pendingWrites = 0;
  private batchesInFlight = 0;
  private scheduled = false;

  constructor(
    private readonly writeBatch: BatchWriter<R>,
    opts: CoalescerOptions = {},
  ) {
    this.windowMs = opts.windowMs ?? 0;
    this.maxBatchKeys = opts.maxBatchKeys ?? 128;
    this.maxPending = opts.maxPending ?? 10_000;
    this.maxBatchesInFlight = opts.maxBatchesInFlight ?? 2;
    const limits = [this.maxBatchKeys, this.maxPending, this.maxBatchesInFlight];
    if (!(this.windowMs >= 0) || !limits.every((n) => n >= 1)) {
      throw new InvalidInputError("coalescer limits must be positive", { ...opts });
    }
  }

  /** Writes accepted and not yet settled. */
  get pending(): number {
    return this.pendingWrites;
  }

  /** Queues `value` for `key`; resolves with the batch writer's result for the key once it is durable. */
  write(key: string, value: unknown): Promise<R> {
    if (this.pendingWrites >= this.maxPending) {
      return Promise.reject(
        new OverloadedError("too many eventual writes in progress: Redis or Kafka is not keeping up", {
          pending: this.pendingWrites,
          maxPending: this.maxPending,
        }),
      );
    }
    this.pendingWrites++;
    return new Promise<R>((resolve, reject) => {
      const settle = { resolve: this.settled(resolve), reject: this.settled(reject) };
      const entry = this.queued.get(key);
      if (entry) {
        entry.values.push(value);
        entry.waiters.push(settle);
      } else {
        this.queued.set(key, { values: [value], waiters: [settle] });
      }
      this.schedule();
    });
  }

  private settled<T>(fn: (v: T) => void): (v: T) => void {
    return (v) => {
      this.pendingWrites--;
      fn(v);
    };
  }

  private schedule(): void {
    // A busy writer picks the queue up when a batch finishes (see start).
    if (this.scheduled || this.batchesInFlight >= this.maxBatchesInFlight) return;
    this.scheduled = true;
    const start = () => {
      this.scheduled = false;
      this.start();
    };
    if (this.windowMs > 0) setTimeout(start, this.windowMs);
    else setImmediate(start);
  }

  /** Hands batches to the writer while a slot is free and a queued key has no batch in flight. */
  private start(): void {
    while (this.batchesInFlight < this.maxBatchesInFlight) {
      const batch = this.take();
      if (batch.size === 0) return;
      this.batchesInFlight++;
      for (const key of batch.keys()) this.busyKeys.add(key);
      void this.flush(batch).finally(() => {
        this.batchesInFlight--;
        for (const key of batch.keys()) this.busyKeys.delete(key);
        this.start();
      });
    }
  }

  /** The oldest `maxBatchKeys` keys without a batch in flight, with everything they received so far. */
  private take(): Map<string, KeyWrites<R>> {
    if (this.queued.size <= this.maxBatchKeys && this.busyKeys.size === 0) {
      const all = this.queued;
      this.queued = new Map();
      return all;
    }
    const batch = new Map<string, KeyWrites<R>>();
    for (const [key, writes] of this.queued) {
      if (batch.size >= this.maxBatchKeys) break;
      if (!this.busyKeys.has(key)) batch.set(key, writes);
    }
    for (const key of batch.keys()) this.queued.delete(key);
    return batch;
  }

  private async flush(batch: Map<string, KeyWrites<R>>): Promise<void> {
    let written: BatchWritten<R>;
    try {
      written = await this.writeBatch(new Map([...batch].map(([key, w]) => [key, w.values])));
    } catch (err) {
      for (const w of batch.values()) for (const waiter of w.waiters) waiter.reject(err);
      return;
    }
    const done: { value: R; waiters: Waiter<R>[] }[] = [];
    for (const [key, w] of batch) {
      const r = written.results.get(key) ?? { error: new Error(`batch writer returned nothing for ${key}`) };
      if ("error" in r) for (const waiter of w.waiters) waiter.reject(r.error);
      else done.push({ value: r.value, waiters: w.waiters });
    }
    // Not awaited: the next batch goes to Redis while this one waits for its Kafka ack.
    written.durable.then(
      () => {
        for (const d of done) for (const waiter of d.waiters) waiter.resolve(d.value);
      },
      (err) => {
        for (const d of done) for (const waiter of d.waiters) waiter.reject(err);
      },
    );
  }
}
