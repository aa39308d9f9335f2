// Invalidations of L1 copies of critical keys between nodes of every region, over Redis pub/sub: one
// channel per node on its region's Redis; the ack goes back on the writer's channel in the writer's
// region. A writer waits for each holder's ack, or for the holder's lease to run out in the holder's
// region (a frozen or partitioned holder delays a write by at most one lease, never forever).
import { randomUUID } from "node:crypto";
import { BackendUnavailableError, type Region } from "@meridian/core";
import type { Redis } from "ioredis";

interface InvMessage {
  t: "inv";
  key: string;
  id: string;
  from: string;
  fromRegion: Region;
}
interface AckMessage {
  t: "ack";
  id: string;
}

export interface BusOptions {
  region: Region;
  nodeId: string;
  /** Channel and lease key prefix (the directory's). */
  prefix: string;
  /** Every region's Redis (publishing Inv into a holder's region, Acks into a writer's). */
  regions: Readonly<Record<Region, Redis>>;
  /** This node's own subscriber connection on its region's Redis. */
  sub: Redis;
  /** How long to wait for an ack before looking at the holder's lease again. */
  ackPollMs: number;
  onInvalidate: (key: string) => void;
  /** The subscription dropped: Inv messages may have been missed. */
  onDeaf: () => void;
}

export class InvalidationBus {
  private subscribed = false;
  private readonly waiting = new Map<string, (acked: boolean) => void>();
  readonly counters = { sent: 0, received: 0, leaseWaits: 0 };

  constructor(private readonly o: BusOptions) {}

  get listening(): boolean {
    return this.subscribed;
  }

  async start(): Promise<void> {
    const { sub } = this.o;
    sub.on("message", (_ch: string, raw: string) => this.onWire(raw));
    sub.on("close", () => {
      this.subscribed = false;
      this.o.onDeaf();
    });
    // After a reconnect, listen again before claiming to listen (ioredis also resubscribes by itself).
    sub.on("ready", () => {
      void sub
        .subscribe(this.channel(this.o.nodeId))
        .then(() => {
          this.subscribed = true;
        })
        .catch(() => {});
    });
    await sub.subscribe(this.channel(this.o.nodeId));
    this.subscribed = true;
  }

  channel(node: string): string {
    return `${this.o.prefix}c:${node}`;
  }

  /**
   * Invalidate `key` at `holder` (in `region`), whose lease had `pttlMs` left: resolves on its ack, or
   * once its lease is gone. Rejects past `deadline` (performance.now()).
   */
  async invalidate(
    region: Region,
    holder: string,
    key: string,
    pttlMs: number,
    deadline: number,
  ): Promise<void> {
    const redis = this.o.regions[region];
    let leaseLeft = pttlMs;
    for (;;) {
      const id = randomUUID();
      const acked = this.awaitAck(id, Math.min(this.o.ackPollMs, leaseLeft + 1));
      const msg: InvMessage = { t: "inv", key, id, from: this.o.nodeId, fromRegion: this.o.region };
      this.counters.sent++;
      await redis.publish(this.channel(holder), JSON.stringify(msg));
      if (await acked) return;
      leaseLeft = await redis.pttl(`${this.o.prefix}n:${holder}`);
      if (leaseLeft <= 0) {
        this.counters.leaseWaits++;
        return;
      }
      if (performance.now() > deadline) {
        throw new BackendUnavailableError(`holder ${holder} neither acked nor let its lease lapse`, {
          key,
          holder,
          region,
        });
      }
    }
  }

  private awaitAck(id: string, timeoutMs: number): Promise<boolean> {
    return new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => {
        this.waiting.delete(id);
        resolve(false);
      }, timeoutMs);
      this.waiting.set(id, (ok) => {
        clearTimeout(timer);
        this.waiting.delete(id);
        resolve(ok);
      });
    });
  }

  private onWire(raw: string): void {
    let msg: InvMessage | AckMessage;
    try {
      msg = JSON.parse(raw) as InvMessage | AckMessage;
    } catch {
      return;
    }
    if (msg.t === "ack") {
      this.waiting.get(msg.id)?.(true);
      return;
    }
    if (msg.t !== "inv" || typeof msg.key !== "string") return;
    this.counters.received++;
    this.o.onInvalidate(msg.key);
    const back = this.o.regions[msg.fromRegion];
    if (!back) return;
    const ack: AckMessage = { t: "ack", id: msg.id };
    void back.publish(this.channel(msg.from), JSON.stringify(ack)).catch(() => 0);
  }

  /** Outstanding waits resolve as "no ack" (shutdown). */
  stop(): void {
    for (const done of [...this.waiting.values()]) done(false);
  }
}
