// An UpdatePublisher that turns concurrent publishes into few produce requests, with a bounded queue.
// The idempotent producer keeps one request in flight (per-key order), so N concurrent writes would cost
// N sequential round trips; here everything queued while a request is in flight rides in the next one
// (kafkajs has no linger: batching comes from sending arrays). Every publish still resolves only after
// Kafka acknowledged (acks=all) the request holding its update, and a failed request rejects every
// publish in it. Backpressure: past `maxQueued` waiting messages a publish is refused at once with
// OverloadedError (nothing queued), and no send waits longer than `sendTimeoutMs`, so with Kafka down
// writers get BackendUnavailableError within that bound and then OverloadedError, never unbounded memory.
import { InvalidInputError, OverloadedError } from "@meridian/core";
import { withDeadline } from "@meridian/store";
import type { CacheUpdate, UpdatePublisher } from "./types.js";

/** The parts of @meridian/bus's IdempotentProducer the publisher needs. */
export interface BatchProducer {
  send(
    topic: string,
    messages: { key: string; value: Buffer; headers?: Record<string, string> }[],
  ): Promise<void>;
}
export interface UpdateEncoder {
  encodeCacheUpdate(update: CacheUpdate): Promise<Buffer>;
}

export interface BatchingPublisherOptions {
  /** Messages per produce request (default 1000). */
  maxBatch?: number;
  /** Messages waiting (encoded or being encoded) beyond which publishes get OverloadedError (default 20 000). */
  maxQueued?: number;
  /** Bound on one produce request (default 5000 ms); past it the request's publishes fail. */
  sendTimeoutMs?: number;
}

interface Pending {
  message: { key: string; value: Buffer; headers: Record<string, string> };
  resolve: () => void;
  reject: (err: unknown) => void;
}

export interface BatchingUpdatePublisher extends UpdatePublisher {
  publishMany(updates: CacheUpdate[]): Promise<void>;
  /** Messages accepted and not yet acknowledged or failed (for metrics and tests). */
  readonly queued: number;
}

export function batchingUpdatePublisher(
  producer: BatchProducer,
  serde: UpdateEncoder,
  topic: string,
  opts: BatchingPublisherOptions = {},
): BatchingUpdatePublisher {
  const maxBatch = opts.maxBatch ?? 1000;
  const maxQueued = opts.maxQueued ?? 20_000;
  const sendTimeoutMs = opts.sendTimeoutMs ?? 5_000;
  if (!(maxBatch >= 1) || !(maxQueued >= 1) || !(sendTimeoutMs > 0)) {
    throw new InvalidInputError("batching publisher limits must be positive", { ...opts });
  }
  let queue: Pending[] = [];
  /** Messages admitted: encoding, queued or in the request in flight. */
  let admitted = 0;
  let sending = false;

  const sendBatch = async (batch: Pending[]): Promise<void> => {
    try {
      await withDeadline(
        "kafka",
        `produce of ${batch.length} updates to ${topic}`,
        sendTimeoutMs,
        producer.send(
          topic,
          batch.map((p) => p.message),
        ),
      );
      for (const p of batch) p.resolve();
    } catch (err) {
      for (const p of batch) p.reject(err);
    } finally {
      admitted -= batch.length;
    }
  };

  const drain = async (): Promise<void> => {
    if (sending) return;
    sending = true;
    try {
      while (queue.length > 0) {
        const batch = queue.length <= maxBatch ? queue : queue.slice(0, maxBatch);
        queue = queue.length <= maxBatch ? [] : queue.slice(maxBatch);
        await sendBatch(batch);
      }
    } finally {
      sending = false;
    }
  };

  const admit = (n: number): void => {
    if (admitted + n > maxQueued) {
      throw new OverloadedError("Kafka publish queue is full: the broker is not keeping up", {
        backend: "kafka",
        topic,
        queued: admitted,
        maxQueued,
      });
    }
    admitted += n;
  };

  const publishMany = async (updates: CacheUpdate[]): Promise<void> => {
    if (updates.length === 0) return;
    admit(updates.length);
    let values: Buffer[];
    try {
      values = await Promise.all(updates.map((u) => serde.encodeCacheUpdate(u)));
    } catch (err) {
      admitted -= updates.length;
      throw err;
    }
    const acked = updates.map(
      (update, i) =>
        new Promise<void>((resolve, reject) => {
          queue.push({
            message: {
              key: update.key,
              value: values[i]!,
              headers: { "meridian-region": update.region, "meridian-kind": update.kind },
            },
            resolve,
            reject,
          });
        }),
    );
    // Started on the next turn: publishes made in this turn join the same request.
    setImmediate(() => void drain());
    await Promise.all(acked);
  };

  return {
    publish: (update) => publishMany([update]),
    publishMany,
    get queued() {
      return admitted;
    },
  };
}
