// The write protocol shared by set, CAS, transactions and group commits. `body` runs inside BEGIN..COMMIT
// with the rows locked and returns what it changed. Every region is invalidated before COMMIT (one script
// call per region carrying every changed key); on any failure the transaction rolls back, the markers are
// removed and nothing is written to any cache. After COMMIT the new versions are written through locally
// and the markers cleared elsewhere — again one call per region, however many keys the write changed.
import { randomUUID } from "node:crypto";
import { BackendUnavailableError } from "@meridian/core";
import { isRetryablePgError, withDeadline } from "@meridian/store";
import type pg from "pg";
import type { Changed, RegionCache } from "./region-cache.js";
import { checkout, guardClient, typedError, WriteBudget } from "./write-budget.js";

export interface WriteTimings {
  pendingTtlMs: number;
  entryTtlMs: number;
  redisTimeoutMs: number;
  pgTimeoutMs: number;
  writeTimeoutMs: number;
}

/** Runs inside the transaction; may run again when PostgreSQL picks it as a deadlock victim. */
export type WriteBody = (client: pg.PoolClient) => Promise<Changed>;

export class WriteProtocol {
  constructor(
    private readonly db: pg.Pool,
    private readonly local: RegionCache,
    private readonly remotes: readonly RegionCache[],
    private readonly o: WriteTimings,
  ) {}

  /** Runs `body` as one write transaction (retried up to 3 times on deadlock / serialization failure). */
  async run(body: WriteBody): Promise<Changed> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.runOnce(body);
      } catch (err) {
        if (attempt < 3 && isRetryablePgError(err)) continue;
        throw typedError(err);
      }
    }
  }

  private async runOnce(body: WriteBody): Promise<Changed> {
    const budget = new WriteBudget(this.o.writeTimeoutMs);
    const client = await checkout(this.db, budget);
    guardClient(client);
    const writerId = randomUUID();
    const regions = [this.local, ...this.remotes];
    let changed: Changed = new Map();
    let invalidated = false;
    let commitSent = false;
    let broken: unknown;
    try {
      await budget.bound("postgres", "BEGIN", client.query(this.beginSql(budget)));
      changed = await budget.bound("postgres", "transaction", body(client));
      if (changed.size > 0) {
        invalidated = true;
        // The only Redis work inside the transaction, bounded: a frozen region means ROLLBACK, not a
        // transaction idling on its row locks.
        await budget.bound(
          "redis",
          "invalidation",
          Promise.all(regions.map((r) => r.beginWrite([...changed.keys()], writerId, this.o.pendingTtlMs))),
        );
      }
      commitSent = true;
      await budget.bound("postgres", "COMMIT", client.query("COMMIT"), this.o.pgTimeoutMs);
    } catch (err) {
      broken = err;
      if (commitSent && !(err as { severity?: unknown })?.severity) {
        // COMMIT's outcome is unknown (no answer): our markers stay until they expire, so no reader caches
        // a version the commit may have superseded; readers use the database meanwhile.
        throw err;
      }
      if (!(err instanceof BackendUnavailableError)) {
        await withDeadline("postgres", "ROLLBACK", this.o.pgTimeoutMs, client.query("ROLLBACK")).catch(
          () => {},
        );
      } // else the connection is destroyed below, which rolls back on the server
      if (invalidated) {
        await withDeadline(
          "redis",
          "marker cleanup",
          this.o.redisTimeoutMs,
          Promise.allSettled(regions.map((r) => r.endWrite([...changed.keys()], writerId))),
        ).catch(() => {});
      }
      throw err;
    } finally {
      // A connection that saw an error is discarded rather than returned to the pool.
      client.release(broken !== undefined ? true : undefined);
    }
    // Committed. Write through locally, clear markers elsewhere. A failure here is harmless for safety:
    // the markers expire and readers go to the database meanwhile.
    if (changed.size > 0) {
      await Promise.allSettled([
        this.local.finishWrite(changed, writerId, this.o.entryTtlMs),
        ...this.remotes.map((r) => r.endWrite([...changed.keys()], writerId)),
      ]);
    }
    return changed;
  }

  /** BEGIN plus server-side bounds, in one round trip (simple-query protocol allows several statements). */
  private beginSql(budget: WriteBudget): string {
    const stmt = Math.max(1, Math.round(this.o.pgTimeoutMs));
    // If this process stalls mid-transaction, the server ends the session and frees the row locks.
    const idle = Math.max(1, Math.round(budget.totalMs + this.o.pgTimeoutMs));
    return `BEGIN; SET LOCAL statement_timeout = ${stmt}; SET LOCAL idle_in_transaction_session_timeout = ${idle}`;
  }
}
