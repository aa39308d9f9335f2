// Group commit of strong sets: concurrent `set` calls on one node share one PostgreSQL transaction (one
// COMMIT, one fsync) and one invalidation script call per region, through the same write
// protocol as a lone write. Each write keeps its own version and its own fence check; a refused one fails
// alone. Every caller is answered only after the group's COMMIT and invalidation (and the write-through),
// and a failure of the group itself (a backend down, the connection killed) fails every caller of it
// with the same typed error: the transaction rolled back, so nothing of the group was applied.
// No timer: a write arriving while no group is forming starts one on the next turn of the event loop,
// so a lone write waits for nothing; under load, writes queue while the running groups commit.
import { InvalidInputError, MeridianError, OverloadedError } from "@meridian/core";
import type { Changed } from "./region-cache.js";
import type { GroupWrite, StrongTable } from "./strong-table.js";
import type { WriteProtocol } from "./write-protocol.js";

export interface GroupCommitOptions {
  /** Most writes in one transaction (default 256). */
  maxGroupSize?: number;
  /** Groups committing at once, each on its own connection (default 2: one commits while the next forms). */
  maxConcurrentGroups?: number;
  /** Bounded queue: writes waiting for a group (default 4096); past it `OverloadedError`. */
  maxQueued?: number;
  /** Bounded queue: bytes of values waiting (default 64 MiB); past it `OverloadedError`. */
  maxQueuedBytes?: number;
}

interface Pending extends GroupWrite {
  bytes: number;
  queuedAt: number;
  resolve(version: number): void;
  reject(err: unknown): void;
}

export interface GroupStats {
  groups: number;
  writes: number;
  largestGroup: number;
  /** Writes refused with OverloadedError (queue full, or queued longer than the write budget). */
  refused: number;
}

export class GroupCommitter {
  private readonly queue: Pending[] = [];
  private queuedBytes = 0;
  private running = 0;
  private scheduled = false;
  private readonly o: Required<GroupCommitOptions>;
  readonly stats: GroupStats = { groups: 0, writes: 0, largestGroup: 0, refused: 0 };

  constructor(
    private readonly table: StrongTable,
    private readonly writes: WriteProtocol,
    /** A write still queued after this long is refused (it never started, so nothing was applied). */
    private readonly maxQueueWaitMs: number,
    options: GroupCommitOptions = {},
  ) {
    this.o = {
      maxGroupSize: options.maxGroupSize ?? 256,
      maxConcurrentGroups: options.maxConcurrentGroups ?? 2,
      maxQueued: options.maxQueued ?? 4096,
      maxQueuedBytes: options.maxQueuedBytes ?? 64 * 2 ** 20,
    };
    for (const [name, v] of Object.entries(this.o)) {
      if (!(Number.isInteger(v) && v >= 1)) {
        throw new InvalidInputError(`groupCommit.${name} must be an integer >= 1`, { [name]: v });
      }
    }
  }

  /** Queues one set; resolves with its version once its group committed. */
  submit(write: GroupWrite): Promise<number> {
    const bytes = Buffer.byteLength(write.json);
    if (this.queue.length >= this.o.maxQueued || this.queuedBytes + bytes > this.o.maxQueuedBytes) {
      this.stats.refused++;
      return Promise.reject(
        new OverloadedError("strong write queue is full", {
          queued: this.queue.length,
          queuedBytes: this.queuedBytes,
          retryAfterMs: 100,
        }),
      );
    }
    return new Promise<number>((resolve, reject) => {
      this.queue.push({ ...write, bytes, queuedAt: performance.now(), resolve, reject });
      this.queuedBytes += bytes;
      this.schedule();
    });
  }

  private schedule(): void {
    if (this.scheduled || this.running >= this.o.maxConcurrentGroups || this.queue.length === 0) return;
    this.scheduled = true;
    // Next turn: every write submitted in this turn joins the group.
    setImmediate(() => {
      this.scheduled = false;
      const group = this.take();
      if (group.length > 0) {
        this.running++;
        void this.commit(group).finally(() => {
          this.running--;
          this.schedule();
        });
      }
      this.schedule();
    });
  }

  /** The next group; writes that waited past the budget are refused instead (nothing of them applied). */
  private take(): Pending[] {
    const group: Pending[] = [];
    const now = performance.now();
    while (group.length < this.o.maxGroupSize && this.queue.length > 0) {
      const w = this.queue.shift()!;
      this.queuedBytes -= w.bytes;
      if (now - w.queuedAt <= this.maxQueueWaitMs) {
        group.push(w);
        continue;
      }
      this.stats.refused++;
      w.reject(
        new OverloadedError(`strong write waited over ${this.maxQueueWaitMs} ms for a commit group`, {
          key: w.key,
          retryAfterMs: 1_000,
        }),
      );
    }
    return group;
  }

  private async commit(group: Pending[]): Promise<void> {
    this.stats.groups++;
    this.stats.writes += group.length;
    this.stats.largestGroup = Math.max(this.stats.largestGroup, group.length);
    let results: Awaited<ReturnType<StrongTable["writeGroup"]>> = [];
    try {
      await this.writes.run(async (client) => {
        results = await this.table.writeGroup(client, group);
        return lastWritePerKey(group, results);
      });
    } catch (err) {
      if (group.length > 1 && isStatementError(err)) {
        // PostgreSQL refused something and rolled the group back: nothing was applied, so each write is
        // tried alone and only the one at fault fails (inputs are validated first, so this is rare).
        for (const w of group) await this.commit([w]);
        return;
      }
      for (const w of group) w.reject(err);
      return;
    }
    group.forEach((w, i) => {
      const r = results[i]!;
      if (typeof r === "number") w.resolve(r);
      else w.reject(r);
    });
  }
}

/**
 * An error PostgreSQL raised about one write's data — bad data (22), a constraint (23), a trigger's RAISE
 * (P0) — after which the transaction is rolled back for sure. Not a connection failure or time-out (those
 * hit every write alike, and after COMMIT their outcome may be unknown), nor a lock or resource error.
 */
function isStatementError(err: unknown): boolean {
  const e = err as { severity?: unknown; code?: unknown };
  if (err instanceof MeridianError || e?.severity !== "ERROR" || typeof e.code !== "string") return false;
  return /^(22|23|P0)/.test(e.code);
}

/**
 * What the group changed, for invalidation and write-through: each key's last applied value and version,
 * with the fence of the last applied fenced write of that key (the fence PostgreSQL now holds).
 */
function lastWritePerKey(writes: readonly GroupWrite[], results: readonly (number | Error)[]): Changed {
  const changed: Changed = new Map();
  writes.forEach((w, i) => {
    const version = results[i];
    if (typeof version !== "number") return;
    const fence = w.fence ?? changed.get(w.key)?.fence;
    changed.set(w.key, { json: w.json, version, ...(fence !== undefined ? { fence } : {}) });
  });
  return changed;
}
