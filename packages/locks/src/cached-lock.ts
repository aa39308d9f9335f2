// One local grant of a cached lock: its fencing token (drawn from the node's reserved block, so strictly
// larger than every earlier grant of the lock on any node) and its release. Valid while the node's
// lease is; the signal aborts when the lease is lost.
import { LockNotHeldError } from "@meridian/core";
import type { LockState } from "./lock-handle.js";

export interface LocalRelease {
  releaseLocal(lock: CachedLock): void;
}

export class CachedLock {
  private stateValue: LockState = "held";
  private readonly abort = new AbortController();

  constructor(
    private readonly cache: LocalRelease,
    readonly resource: string,
    /** Fencing token: pass it to every write the lock protects. */
    readonly fence: number,
    readonly owner: string,
    private readonly leaseValidUntil: () => number,
  ) {}

  get state(): LockState {
    return this.stateValue;
  }

  /** Aborted when the node loses the lease while this grant is held. */
  get signal(): AbortSignal {
    return this.abort.signal;
  }

  /** Local view only: protect writes with `fence`, not with this. */
  isHeld(): boolean {
    return this.stateValue === "held" && performance.now() < this.leaseValidUntil();
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
    this.abort.abort(err);
  }
}
