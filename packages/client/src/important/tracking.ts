// Redis server-assisted client-side caching (CLIENT TRACKING, RESP2 redirect mode): Redis remembers
// which keys the data connection read and pushes an invalidation to our subscriber connection when any
// client changes one of them — the invalidation consumer applying another region's update, anti-entropy,
// read-repair or a local writer alike, with no cooperation from them. Tracking lives and dies with the
// two connections: when either drops, invalidations may have been missed, so `onGap` fires and the
// owner distrusts its copies until tracking is on again.
import type { Redis } from "ioredis";

export interface TrackingOptions {
  /** The connection whose reads are tracked. */
  data: Redis;
  /** A dedicated connection that receives the invalidations. */
  sub: Redis;
  onInvalidate: (redisKey: string) => void;
  /** Invalidations may have been missed (or Redis flushed its tracking table): distrust everything. */
  onGap: () => void;
}

const CHANNEL = "__redis__:invalidate";

export class KeyTracking {
  private on = false;
  /** CLIENT ID of the subscriber's current connection (asked before it enters subscriber mode). */
  private subId: string | undefined;
  private enabling: Promise<void> | undefined;
  readonly counters = { gaps: 0, messages: 0 };

  constructor(private readonly o: TrackingOptions) {}

  /** True while every change to a key read through `data` since then will reach `onInvalidate`. */
  get active(): boolean {
    return this.on;
  }

  async start(): Promise<void> {
    const { sub, data } = this.o;
    sub.on("messageBuffer", (_ch: Buffer, msg: Buffer[] | Buffer | null) => this.onMessage(msg));
    sub.on("close", () => {
      this.subId = undefined;
      this.gap();
    });
    data.on("close", () => this.gap());
    // The subscriber must not resubscribe by itself (autoResubscribe: false): CLIENT ID comes first.
    sub.on("ready", () => void this.enable().catch(() => {}));
    data.on("ready", () => void this.enable().catch(() => {}));
    await this.enable();
  }

  private gap(): void {
    if (this.on) this.counters.gaps++;
    this.on = false;
    this.o.onGap();
  }

  /** (Re)subscribe if needed, then redirect the data connection's tracking to the subscriber's id. */
  private enable(): Promise<void> {
    this.enabling ??= (async () => {
      const { sub, data } = this.o;
      if (this.subId === undefined) {
        const id = String(await sub.client("ID"));
        await sub.subscribe(CHANNEL);
        this.subId = id;
      }
      await data.call("CLIENT", "TRACKING", "on", "REDIRECT", this.subId);
      this.on = true;
    })().finally(() => {
      this.enabling = undefined;
    });
    return this.enabling;
  }

  private onMessage(msg: Buffer[] | Buffer | null): void {
    this.counters.messages++;
    if (msg === null) {
      // Redis flushed its tracking table (FLUSHALL or memory pressure): every copy may be stale.
      this.gap();
      void this.enable().catch(() => {});
      return;
    }
    for (const k of Array.isArray(msg) ? msg : [msg]) this.o.onInvalidate(k.toString());
  }
}
