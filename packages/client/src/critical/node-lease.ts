// This node's liveness lease in its region's directory, and whether the node may trust its own clock.
// Safety rests on one inequality: the node stops serving L1 copies no later than Redis expires its lease.
// The node measures the lease on its monotonic clock from the moment it SENT the renewal (Redis granted
// it later), shortened by the drift bound; every renewal also compares how much time passed on Redis
// (TIME) with how much passed locally, and a node whose clock disagrees by more than the bound distrusts
// itself (drops every copy, serves nothing from L1) until two renewals agree again. A lease is tagged with
// the Redis incarnation (run_id) that granted it: one found on another incarnation counts as lapsed.
import type { Redis } from "ioredis";
import { DROP_LEASE, RENEW_LEASE } from "./directory-scripts.js";

export interface LeaseOptions {
  leaseMs: number;
  /** Largest rate difference between this node's monotonic clock and Redis's clock (0.01 = 1 %). */
  maxDriftRate: number;
}

/** A safety margin beyond the drift bound, for timer and scheduling granularity. */
const MARGIN_MS = 2;

interface Sample {
  sentAt: number;
  receivedAt: number;
  redisMs: number;
}

export class NodeLease {
  /** performance.now() until which copies may be served. */
  private validUntil = 0;
  private last: Sample | undefined;
  private inFlight: Promise<void> | undefined;
  readonly counters = { renewals: 0, lapses: 0, clockDistrusts: 0 };

  constructor(
    private readonly redis: Redis,
    private readonly leaseKey: string,
    /** The directory's incarnation record (see directory-scripts). */
    private readonly incarnationKey: string,
    readonly incarnation: string,
    private readonly opts: LeaseOptions,
    /** Called before the lease is trusted again after a lapse or a clock disagreement: drop every copy. */
    private readonly onUntrusted: () => void,
  ) {}

  valid(now: number): boolean {
    return now < this.validUntil;
  }

  /** Renew now; concurrent callers share one renewal. Rejects when Redis cannot be reached. */
  renew(): Promise<void> {
    this.inFlight ??= this.renewOnce().finally(() => {
      this.inFlight = undefined;
    });
    return this.inFlight;
  }

  /** Stop serving at once (subscription lost, shutdown). */
  revoke(): void {
    this.validUntil = 0;
    this.last = undefined;
  }

  async drop(): Promise<void> {
    this.revoke();
    await DROP_LEASE.run(this.redis, [this.leaseKey], [this.incarnation]);
  }

  private async renewOnce(): Promise<void> {
    const sentAt = performance.now();
    const reply = (await RENEW_LEASE.run(
      this.redis,
      [this.leaseKey, this.incarnationKey],
      [this.incarnation, this.opts.leaseMs],
    )) as [number, string, string];
    const sample: Sample = {
      sentAt,
      receivedAt: performance.now(),
      redisMs: Number(reply[1]) * 1000 + Number(reply[2]) / 1000,
    };
    this.counters.renewals++;
    const lapsed = Number(reply[0]) === 0;
    const clockOk = this.last === undefined || clockAgrees(this.last, sample, this.opts.maxDriftRate);
    const hadLease = this.last !== undefined;
    this.last = sample;
    if (lapsed || !clockOk) {
      this.validUntil = 0;
      if (lapsed && hadLease) this.counters.lapses++;
      if (!clockOk) {
        this.counters.clockDistrusts++;
        this.last = sample; // the next renewal is compared with this one
      }
      this.onUntrusted();
      if (!clockOk) return;
    }
    this.validUntil = sentAt + this.opts.leaseMs * (1 - this.opts.maxDriftRate) - MARGIN_MS;
  }
}

/**
 * Redis read its clock somewhere inside each round trip, so between two samples Redis's elapsed time
 * lies within [a.received .. b.sent] and [a.sent .. b.received] of local time, widened by the drift rate.
 */
export function clockAgrees(a: Sample, b: Sample, maxDriftRate: number): boolean {
  const redisElapsed = b.redisMs - a.redisMs;
  const localMin = Math.max(0, b.sentAt - a.receivedAt);
  const localMax = b.receivedAt - a.sentAt;
  return (
    redisElapsed >= localMin * (1 - maxDriftRate) - 1 && redisElapsed <= localMax * (1 + maxDriftRate) + 1
  );
}
