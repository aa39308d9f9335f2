// The replicator's consuming side: every region's updates topic, a fetched batch at a time. Each message
// is queued on its links to every other region (in offset order, so each link stays FIFO) and tracked
// until every destination acknowledged it. Consumption pauses while too many messages are held.
import { headersToStrings, type SupervisedConsumer } from "@meridian/bus";
import type { Logger } from "@meridian/service-kit";
import type { Batch, Consumer } from "kafkajs";
import type { Delivery, Forwarder } from "./forwarder.js";
import type { OffsetTracker } from "./offset-tracker.js";
import type { createReplicatorMetrics } from "./replicator-metrics.js";
import type { WanLinks } from "./wan-links.js";

export interface IntakeDeps {
  regions: readonly string[];
  /** Source updates topic → its region. */
  regionOfTopic: ReadonlyMap<string, string>;
  links: WanLinks<Delivery>;
  tracker: OffsetTracker;
  forwarder: Forwarder;
  metrics: ReturnType<typeof createReplicatorMetrics>;
  log: Logger;
  /** Pause consuming while this many messages wait on the links. */
  maxHeld: number;
}

export class Intake {
  private paused = false;

  constructor(
    private readonly supervisor: SupervisedConsumer,
    private readonly deps: IntakeDeps,
  ) {
    // A replaced consumer re-reads every partition from its last commit: what this one tracked is void.
    supervisor.onRestart(() => {
      for (const { topic, partition } of deps.tracker.partitions()) deps.tracker.forget(topic, partition);
      this.paused = false;
    });
  }

  /** Runs one (supervised) kafkajs consumer. */
  async run(consumer: Consumer): Promise<void> {
    this.watchAssignments(consumer);
    await consumer.subscribe({ topics: [...this.deps.regionOfTopic.keys()], fromBeginning: true });
    await consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      // One at a time: taking a message only queues it on the links (no I/O), so concurrent partitions buy
      // nothing here, and with kafkajs' concurrency 3 this consumer was measured fetching more slowly.
      partitionsConsumedConcurrently: 1,
      eachBatch: async ({ batch, resolveOffset, isRunning, isStale }) => {
        const from = this.deps.regionOfTopic.get(batch.topic);
        if (!from) return;
        for (const message of batch.messages) {
          // Not taken = not resolved: kafkajs fetches it again (revoked partitions belong to another member).
          if (!isRunning() || isStale()) break;
          this.take(from, batch, message);
          resolveOffset(message.offset);
        }
        this.applyBackpressure(consumer);
        this.deps.forwarder.schedule();
      },
    });
  }

  /** Resumes consumption once the links drained below half the bound. */
  maybeResume(): void {
    if (this.paused && this.deps.links.size() < this.deps.maxHeld / 2) {
      this.paused = false;
      this.supervisor.current().resume(this.topics());
    }
  }

  private take(from: string, batch: Batch, message: Batch["messages"][number]): void {
    const now = Date.now();
    const delivery: Delivery = {
      sourceTopic: batch.topic,
      partition: batch.partition,
      offset: message.offset,
      remaining: this.deps.regions.length - 1,
      key: message.key ? message.key.toString("utf8") : null,
      value: message.value,
      headers: headersToStrings(message.headers),
      receivedAtMs: now,
    };
    this.deps.tracker.begin(batch.topic, batch.partition, message.offset);
    this.deps.metrics.consumeLag.observe({ from }, Math.max(0, now - Number(message.timestamp)) / 1000);
    for (const to of this.deps.regions) if (to !== from) this.deps.links.enqueue(from, to, delivery, now);
  }

  private applyBackpressure(consumer: Consumer): void {
    if (this.paused || this.deps.links.size() < this.deps.maxHeld) return;
    this.paused = true;
    consumer.pause(this.topics());
    this.deps.log.warn({ held: this.deps.links.size() }, "too many held messages; pausing consumption");
  }

  private topics(): { topic: string }[] {
    return [...this.deps.regionOfTopic.keys()].map((topic) => ({ topic }));
  }

  private watchAssignments(consumer: Consumer): void {
    consumer.on(consumer.events.GROUP_JOIN, (e) => {
      const assigned = e.payload.memberAssignment as Record<string, number[]>;
      // Partitions revoked in a rebalance belong to another member now: it re-reads them from the last
      // committed offset, so this instance must neither wait for nor commit them.
      for (const { topic, partition } of this.deps.tracker.partitions()) {
        if (!assigned[topic]?.includes(partition)) this.deps.tracker.forget(topic, partition);
      }
      this.deps.log.info({ assigned }, "replicator joined group");
    });
  }
}

/** Commits, per partition, the offsets every destination acknowledged (periodically and on stop). */
export async function commitAcknowledged(
  supervisor: SupervisedConsumer,
  tracker: OffsetTracker,
  log: Logger,
): Promise<void> {
  const offsets = tracker.committable();
  if (offsets.length === 0) return;
  try {
    await supervisor.current().commitOffsets(offsets);
    tracker.markCommitted(offsets);
    supervisor.progressed();
  } catch (err) {
    log.warn({ err }, "offset commit failed (rebalance?); will retry");
  }
}
