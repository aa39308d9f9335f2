// The forwarding loop: messages wait on their WAN link (wan-links.ts) until due, then each destination's
// due messages go out as consecutive produce requests (chunks), one request in flight per destination so
// every link stays FIFO. A message counts as delivered to a destination only once its chunk is
// acknowledged; its source offset becomes committable once every destination acknowledged it. A failed
// chunk and all later ones go back to the head of their links, in order, and are retried.
import type { IdempotentProducer } from "@meridian/bus";
import type { Logger } from "@meridian/service-kit";
import type { OffsetTracker } from "./offset-tracker.js";
import { type ChunkLimits, chunkBySize, estimateRecordBytes } from "./replicator-chunks.js";
import type { createReplicatorMetrics } from "./replicator-metrics.js";
import type { WanLinks } from "./wan-links.js";

/** One consumed source message on its way to every other region. */
export interface Delivery {
  sourceTopic: string;
  partition: number;
  offset: string;
  /** Destinations that have not acknowledged it yet. */
  remaining: number;
  key: string | null;
  value: Buffer | null;
  headers: Record<string, string>;
  receivedAtMs: number;
}

export interface ForwarderDeps {
  links: WanLinks<Delivery>;
  tracker: OffsetTracker;
  producers: ReadonlyMap<string, IdempotentProducer>;
  inboundTopic: (region: string) => string;
  chunkLimits: ChunkLimits;
  metrics: ReturnType<typeof createReplicatorMetrics>;
  log: Logger;
  /** Called after each destination's send settled (the intake may resume). */
  afterSend: () => void;
  /** Wait before a failed destination is tried again. Default 500 ms. */
  retryDelayMs?: number;
}

type Part = { from: string; items: Delivery[] };

export class Forwarder {
  private forwardedCount = 0;
  private stopped = false;
  /** Destinations with a produce request in flight. */
  private readonly busy = new Set<string>();
  private readonly isBusy = (_from: string, to: string): boolean => this.busy.has(to);
  private timer: NodeJS.Timeout | undefined;
  private timerAt = Number.POSITIVE_INFINITY;

  constructor(private readonly deps: ForwarderDeps) {}

  get forwarded(): number {
    return this.forwardedCount;
  }

  /** Arms the timer for the next due message (or an idle destination with due messages). */
  schedule(): void {
    if (this.stopped) return;
    const next = this.deps.links.nextDueAt(this.isBusy);
    if (next === undefined || next >= this.timerAt) return;
    if (this.timer) clearTimeout(this.timer);
    this.timerAt = next;
    this.timer = setTimeout(() => this.pump(), Math.max(0, next - Date.now()));
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
  }

  private pump(): void {
    this.timer = undefined;
    this.timerAt = Number.POSITIVE_INFINITY;
    if (this.stopped) return;
    // One produce stream per destination: every link into it contributes its due prefix.
    const byDestination = new Map<string, Part[]>();
    for (const batch of this.deps.links.takeDue(Date.now(), this.isBusy)) {
      const list = byDestination.get(batch.to) ?? [];
      list.push({ from: batch.from, items: batch.items });
      byDestination.set(batch.to, list);
    }
    for (const [to, parts] of byDestination) {
      this.busy.add(to);
      void this.deliver(to, parts);
    }
    this.schedule();
  }

  private async deliver(to: string, parts: Part[]): Promise<void> {
    const records = toRecords(parts, String(Date.now()));
    const chunks = chunkBySize(records, (r) => estimateRecordBytes(r.message), this.deps.chunkLimits);
    let sent = 0;
    try {
      for (const chunk of chunks) {
        await this.deps.producers.get(to)!.send(
          this.deps.inboundTopic(to),
          chunk.map((r) => r.message),
        );
        sent += 1;
        this.acknowledged(to, chunk);
      }
    } catch (err) {
      this.requeue(to, chunks.slice(sent).flat(), err, { chunk: sent, chunks: chunks.length });
      await new Promise((r) => setTimeout(r, this.deps.retryDelayMs ?? 500));
    }
    this.busy.delete(to);
    this.deps.afterSend();
    this.schedule();
  }

  private acknowledged(to: string, chunk: OutRecord[]): void {
    const { metrics, tracker } = this.deps;
    const now = Date.now();
    for (const { from, delivery: d } of chunk) {
      metrics.linkDelay.observe({ from, to }, (now - d.receivedAtMs) / 1000);
      d.remaining -= 1;
      if (d.remaining === 0) tracker.finish(d.sourceTopic, d.partition, d.offset);
      metrics.forwardedTotal.inc({ from, to });
    }
    this.forwardedCount += chunk.length;
  }

  /** Keeps the unacknowledged messages at the head of their links: nothing is dropped, order is kept. */
  private requeue(to: string, unsent: OutRecord[], err: unknown, where: Record<string, number>): void {
    this.deps.metrics.produceErrors.inc();
    this.deps.log.warn({ err, to, count: unsent.length, ...where }, "produce to inbound failed; retrying");
    const byLink = new Map<string, Delivery[]>();
    for (const r of unsent) {
      const list = byLink.get(r.from) ?? [];
      list.push(r.delivery);
      byLink.set(r.from, list);
    }
    for (const [from, items] of byLink) this.deps.links.requeueFront(from, to, items);
  }
}

interface OutRecord {
  from: string;
  delivery: Delivery;
  message: { key: string; value: Buffer; headers: Record<string, string> };
}

function toRecords(parts: Part[], releasedAt: string): OutRecord[] {
  return parts.flatMap(({ from, items }) =>
    items.map((d) => ({
      from,
      delivery: d,
      message: {
        key: d.key ?? "",
        value: d.value ?? Buffer.alloc(0),
        headers: {
          ...d.headers,
          "meridian-origin-region": from,
          "meridian-source": `${d.sourceTopic}/${d.partition}/${d.offset}`,
          "meridian-replicated-at-ms": releasedAt,
        },
      },
    })),
  );
}
