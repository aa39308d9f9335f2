// Batching of lock acquisitions: the attempts that concurrent callers of one process make in the same
// event-loop turn go to Redis as one script call (one INFO for the fencing check, one round trip). Each
// caller still runs LockManager's own acquire loop — waiting, back-off, deadlock detection, watchdog,
// typed errors — only its attempts are pooled.

import type { LuaScript } from "@meridian/store";
import type { LockHandle } from "./lock-handle.js";
import type { AcquireOptions, LockManager } from "./lock-manager.js";
import { acquireBatchScript } from "./scripts.js";

interface PendingAttempt {
  resource: string;
  token: string;
  ttlMs: number;
  resolve(result: number): void;
  reject(err: unknown): void;
}

export class AcquireBatcher {
  private pending: PendingAttempt[] = [];
  private scheduled = false;
  private readonly scripts = new Map<number, LuaScript>();
  /** Script calls made and attempts they carried (how much batching happened). */
  readonly stats = { calls: 0, attempts: 0 };

  constructor(
    readonly manager: LockManager,
    /** Most attempts in one script call. */
    private readonly maxBatch = 128,
  ) {}

  /** As LockManager.acquire, with this process's concurrent attempts pooled into shared script calls. */
  acquire(resource: string, options: AcquireOptions = {}): Promise<LockHandle> {
    return this.manager.acquireWith(
      resource,
      options,
      (token, ttlMs) =>
        new Promise<number>((resolve, reject) => {
          this.pending.push({ resource, token, ttlMs, resolve, reject });
          if (!this.scheduled) {
            this.scheduled = true;
            setImmediate(() => this.flush());
          }
        }),
    );
  }

  private flush(): void {
    this.scheduled = false;
    while (this.pending.length > 0) void this.send(this.pending.splice(0, this.maxBatch));
  }

  private async send(batch: PendingAttempt[]): Promise<void> {
    const k = this.manager.keys;
    const keys = [k.holders, k.epoch];
    const args: (string | number)[] = [];
    for (const a of batch) {
      keys.push(k.lock(a.resource), k.fence(a.resource));
      args.push(a.token, a.ttlMs, a.resource);
    }
    let script = this.scripts.get(batch.length);
    if (!script) {
      script = acquireBatchScript(batch.length);
      this.scripts.set(batch.length, script);
    }
    this.stats.calls++;
    this.stats.attempts += batch.length;
    try {
      const results = (await script.run(this.manager.redis, keys, args)) as number[];
      for (let i = 0; i < batch.length; i++) batch[i]!.resolve(Number(results[i]));
    } catch (err) {
      // Each caller's acquire loop maps and bounds the error (BackendUnavailableError on no answer).
      for (const a of batch) a.reject(err);
    }
  }
}
