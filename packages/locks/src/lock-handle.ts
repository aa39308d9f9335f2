// One acquisition of a lock: its token and fencing token, release/renew, and the watchdog that renews it.
import { LockNotHeldError } from "@meridian/core";
import { Watchdog } from "./watchdog.js";

export interface LockOps {
  renew(resource: string, token: string, ttlMs: number): Promise<void>;
  release(resource: string, token: string): Promise<void>;
}

export type LockState = "held" | "released" | "lost";

export class LockHandle {
  private stateValue: LockState = "held";
  private validUntilMs: number;
  private readonly abort = new AbortController();
  private readonly lostListeners: ((err: Error) => void)[] = [];
  private watchdog: Watchdog | undefined;
  private lostError: Error | undefined;

  constructor(
    private readonly ops: LockOps,
    readonly resource: string,
    readonly token: string,
    /** Fencing token: strictly increasing per resource; pass it to every write the lock protects. */
    readonly fence: number,
    readonly owner: string,
    readonly ttlMs: number,
    /** performance.now() taken just before the acquire command was sent (conservative validity start). */
    sentAt: number,
  ) {
    this.validUntilMs = sentAt + ttlMs;
  }

  get state(): LockState {
    return this.stateValue;
  }

  /** Aborted when the lock is lost (renewal refused, or validity elapsed). */
  get signal(): AbortSignal {
    return this.abort.signal;
  }

  /** Local view: held, and its validity has not elapsed. Protect writes with `fence`, not with this. */
  isHeld(): boolean {
    return this.stateValue === "held" && performance.now() < this.validUntilMs;
  }

  validUntil(): number {
    return this.validUntilMs;
  }

  onLost(listener: (err: Error) => void): void {
    if (this.stateValue === "lost" && this.lostError) listener(this.lostError);
    else this.lostListeners.push(listener);
  }

  get watchdogStats():
    | { running: boolean; intervalMs: number; renewals: number; transientErrors: number }
    | undefined {
    const w = this.watchdog;
    return (
      w && {
        running: w.running,
        intervalMs: w.intervalMs,
        renewals: w.renewals,
        transientErrors: w.transientErrors,
      }
    );
  }

  /** Starts renewing every `intervalMs` (default ttl/3). */
  startWatchdog(intervalMs = Math.max(1, Math.floor(this.ttlMs / 3))): void {
    if (this.stateValue !== "held" || this.watchdog) return;
    this.watchdog = new Watchdog(
      {
        renew: () => this.renew(),
        validUntil: () => this.validUntilMs,
        markLost: (err) => this.markLost(err),
      },
      intervalMs,
    );
    this.watchdog.start();
  }

  /** Extends the ttl; throws LockNotHeldError once released, lost, expired or taken by someone else. */
  async renew(ttlMs = this.ttlMs): Promise<void> {
    if (this.stateValue !== "held") {
      throw new LockNotHeldError(`lock ${this.resource} is ${this.stateValue}`, { resource: this.resource });
    }
    const sentAt = performance.now();
    try {
      await this.ops.renew(this.resource, this.token, ttlMs);
    } catch (err) {
      if (err instanceof LockNotHeldError) this.markLost(err);
      throw err;
    }
    // A release that raced with this renewal wins: the state stays "released".
    if (this.stateValue === "held") this.validUntilMs = sentAt + ttlMs;
  }

  /**
   * Releases by compare-and-delete. Idempotent once released. Throws LockNotHeldError if the lock had
   * already expired or passed to another holder (the critical section was not protected to the end).
   */
  async release(): Promise<void> {
    if (this.stateValue === "released") return;
    const wasLost = this.stateValue === "lost";
    this.watchdog?.stop();
    this.stateValue = "released";
    if (wasLost) {
      throw new LockNotHeldError(`lock ${this.resource} was lost before release`, {
        resource: this.resource,
      });
    }
    await this.ops.release(this.resource, this.token);
  }

  /** Stops renewing without releasing (tests simulate a dead holder; the lock then expires by ttl). */
  abandon(): void {
    this.watchdog?.stop();
    this.stateValue = "released";
  }

  private markLost(err: Error): void {
    if (this.stateValue !== "held") return;
    this.stateValue = "lost";
    this.lostError = err;
    this.watchdog?.stop();
    this.abort.abort(err);
    for (const l of this.lostListeners.splice(0)) l(err);
  }
}
