// One local grant of a cached lock: its fencing token (drawn from the node's reserved block, so strictly
// larger than every earlier grant of the lock on any node) and its release. Valid while the node's
// lease is; the signal aborts when the lease is lost.
import { LockNotHeldError } from "@meridian/core";
import type { LockState } from "./lock-handle.js";

export interface LocalRelease {
  releaseLocal(lock: CachedLock): void;
}

/** What a grant needs of the node's lease: until when it is surely valid. */
export interface LeaseValidity {
  validUntil(): number;
}

export class CachedLock {
  private stateValue: LockState = "held";
  // Made on first use: most grants are released without anyone reading `signal` (hot path).
  private abort: AbortController | undefined;
  private lostError: Error | undefined;

  constructor(
    private readonly cache: LocalRelease,
    readonly resource: string,
    /** Fencing token: pass it to every write the lock protects. */
    readonly fence: number,
    readonly owner: string,
    private readonly lease: LeaseValidity,
  ) {}

  get state(): LockState {
    return this.stateValue;
  }

  /** Aborted when the node loses the lease while this grant is held. */
  get signal(): AbortSignal {
    if (!this.abort) {
      this.abort = new AbortController();
      if (this.lostError) this.abort.abort(this.lostError);
    }
    return this.abort.signal;
  }

  /** Local view only: protect writes with `fence`, not with this. */
  isHeld(): boolean {
    return this.stateValue === "held" && performance.now() < this.lease.validUntil();
  }

  /** Idempotent once released; LockNotHeldError if the lease was lost while this grant was held. */
  async release(): Promise<void> {
    if (this.stateValue === "released") return;
    const wasLost = this.stateValue === "lost";
    this.stateValue = "released";
    this.cache.releaseLocal(this);
    if (wasLost) {
      throw new LockNotHeldError(`lock ${this.resource} was lost before release`, {
        resource: this.resource,
      });
    }
  }

  markLost(err: Error): void {
    if (this.stateValue !== "held") return;
    this.stateValue = "lost";
    this.lostError = err;
    this.abort?.abort(err);
  }
}
