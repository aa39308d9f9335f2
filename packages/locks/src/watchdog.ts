// Renews a held lock every `intervalMs` while the holder lives. Transient Redis errors (reconnects) do not
// stop it: it retries quickly until the lock's local validity runs out. A "not held" answer is final.
import { LockNotHeldError } from "@meridian/core";

export interface WatchdogTarget {
  /** Renews in Redis; throws LockNotHeldError when the lock is no longer ours. */
  renew(): Promise<void>;
  /** Local monotonic deadline (performance.now()) until which the lock is known valid. */
  validUntil(): number;
  /** Called once when the lock is known or presumed lost. */
  markLost(reason: Error): void;
}

export class Watchdog {
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  renewals = 0;
  transientErrors = 0;

  constructor(
    private readonly target: WatchdogTarget,
    readonly intervalMs: number,
    private readonly retryMs = Math.max(10, Math.min(200, Math.floor(intervalMs / 4))),
  ) {}

  start(): void {
    this.schedule(this.intervalMs);
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  get running(): boolean {
    return !this.stopped;
  }

  private schedule(ms: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => void this.tick(), ms);
    // A held lock must not keep the process alive on its own.
    this.timer.unref();
  }

  private async tick(): Promise<void> {
    if (this.stopped) return;
    if (performance.now() > this.target.validUntil()) {
      // An event-loop stall (or long outage) outlived the ttl: someone else may hold the lock now.
      this.stop();
      this.target.markLost(new LockNotHeldError("lock validity elapsed before the watchdog could renew it"));
      return;
    }
    try {
      await this.target.renew();
      this.renewals++;
      this.schedule(this.intervalMs);
    } catch (err) {
      if (this.stopped) return;
      if (err instanceof LockNotHeldError) {
        this.stop();
        this.target.markLost(err);
        return;
      }
      this.transientErrors++;
      this.schedule(this.retryMs);
    }
  }
}
