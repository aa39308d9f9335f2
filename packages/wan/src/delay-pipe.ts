// One direction of a WAN link: bytes read from `source` reach `sink` `delayMs()` later, in order, at the
// rate they arrived. Each chunk is stamped with its due time; one timer serves the head of the queue, so
// the cost is per chunk (not per byte) and throughput is kept. A held pipe (a cut link) stops delivering
// and stops reading, so TCP back-pressure stalls the sender exactly as a dead route would.
import type { Socket } from "node:net";

/** Bytes queued in the pipe before it stops reading from the source (back-pressure). */
const HIGH_WATER_BYTES = 4 << 20;

interface Chunk {
  dueAt: number;
  data: Buffer;
}

export class DelayPipe {
  private readonly queue: Chunk[] = [];
  private queuedBytes = 0;
  private timer: NodeJS.Timeout | undefined;
  private held = false;
  private sinkBlocked = false;
  private ended = false;

  constructor(
    private readonly source: Socket,
    private readonly sink: Socket,
    private readonly delayMs: () => number,
  ) {
    source.on("data", (data: Buffer) => this.push(data));
    source.on("end", () => {
      this.ended = true;
      this.flush();
    });
    sink.on("drain", () => {
      this.sinkBlocked = false;
      this.flush();
    });
    this.updateReading(); // sources arrive paused so no byte is read before the pipe is wired
  }

  /** Stops delivering and reading (a cut link). */
  hold(): void {
    this.held = true;
    this.source.pause();
    this.clearTimer();
  }

  /** Resumes after a cut: what waited is delivered, no sooner than its due time. */
  release(): void {
    this.held = false;
    this.flush();
    this.updateReading();
  }

  get pendingBytes(): number {
    return this.queuedBytes;
  }

  close(): void {
    this.clearTimer();
    this.queue.length = 0;
    this.queuedBytes = 0;
  }

  private push(data: Buffer): void {
    const last = this.queue[this.queue.length - 1];
    const dueAt = Math.max(Date.now() + this.delayMs(), last ? last.dueAt : 0);
    this.queue.push({ dueAt, data });
    this.queuedBytes += data.length;
    this.updateReading();
    if (this.queue.length === 1) this.flush();
  }

  private flush(): void {
    this.clearTimer();
    if (this.held) return;
    const now = Date.now();
    while (!this.sinkBlocked && this.queue.length > 0 && this.queue[0]!.dueAt <= now) {
      const chunk = this.queue.shift()!;
      this.queuedBytes -= chunk.data.length;
      if (!this.sink.destroyed && !this.sink.write(chunk.data)) this.sinkBlocked = true;
    }
    this.updateReading();
    if (this.queue.length > 0) {
      if (!this.sinkBlocked) this.timer = setTimeout(() => this.flush(), this.queue[0]!.dueAt - now);
    } else if (this.ended && !this.sink.destroyed) {
      this.sink.end(); // the half-close travels with the same delay as the data before it
    }
  }

  private updateReading(): void {
    if (this.held || this.queuedBytes >= HIGH_WATER_BYTES) this.source.pause();
    else if (!this.source.destroyed) this.source.resume();
  }

  private clearTimer(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }
}
