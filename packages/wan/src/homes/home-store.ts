// The critical keys one region is home to. The region's StrongConsistencyCache runs over its own
// PostgreSQL schema (the home's source of truth) and its own Redis, so reads and writes stay local.
// Ownership is a durable home record per key, stored as a reserved row of the same table:
//   absent → the policy's default home owns the key (epoch 0)
//   { state: "home", epoch }      → this region owns it since a move of that epoch
//   { state: "moved", epoch, to } → fenced: it left for `to`; this region refuses it from then on
// A write locks the key's row and its record's row in one transaction and checks the record, so a write
// and a fence (which flips the record in the same kind of transaction) are serialized by PostgreSQL: no
// write lands after the fence. A read reads the record, the value, then the record again: the same "home"
// epoch both times means this region owned the key throughout (epochs only grow), so it was adopted before
// the value read (no pre-move leftover) and not fenced yet (no other region had accepted a write) — the
// value was the latest and the read linearizes at its value read.
import { InvalidInputError } from "@meridian/core";
import type { StrongConsistencyCache } from "@meridian/strong";
import type pg from "pg";
import { NotHomeError } from "./errors.js";
import type { HomePolicy } from "./policy.js";

/** Prefix of the reserved rows holding home records; user keys may not start with it. */
export const HOME_RECORD_PREFIX = "~home/";

export interface HomeRecord {
  state: "home" | "moved";
  epoch: number;
  to?: string;
}

export interface HomeRead {
  value: unknown;
  version: number;
  ageMs: number;
  source: "cache" | "database";
  epoch: number;
}

/** What a fenced key carries to its new home. */
export interface MovedKey {
  key: string;
  value: unknown;
  version: number;
  epoch: number;
}

export function checkUserKey(key: unknown): asserts key is string {
  if (typeof key !== "string" || key.length === 0)
    throw new InvalidInputError("key must be a non-empty string");
  if (key.startsWith(HOME_RECORD_PREFIX)) {
    throw new InvalidInputError(`keys starting with ${HOME_RECORD_PREFIX} are reserved`, { key });
  }
}

const recordKey = (key: string): string => `${HOME_RECORD_PREFIX}${key}`;

export class HomeStore {
  /**
   * `cache`: this home's StrongConsistencyCache (own schema, own Redis, no peers). `readMostly`: the same
   * over every region's Redis as peers, for read-mostly keys, whose copies in other regions each write
   * invalidates before it is acknowledged. A HomeStore may also stand for a remote home (region = that
   * home) over a local replica cache: then only get() is used, served from this region's copy.
   */
  constructor(
    readonly region: string,
    private readonly cache: StrongConsistencyCache,
    private readonly pool: pg.Pool,
    private readonly policy: HomePolicy,
    private readonly readMostly?: StrongConsistencyCache,
  ) {}

  private cacheFor(key: string): StrongConsistencyCache {
    return this.readMostly && this.policy.isReadMostly(key) ? this.readMostly : this.cache;
  }

  /** Epoch of this region's ownership of `key`; NotHomeError when another region owns it. */
  private owned(key: string, record: HomeRecord | undefined): number {
    if (record === undefined) {
      const home = this.policy.defaultHome(key);
      if (home !== this.region) throw new NotHomeError(key, home, 0);
      return 0;
    }
    if (record.state === "moved") throw new NotHomeError(key, record.to!, record.epoch);
    return record.epoch;
  }

  async get(key: string, opts: { maxAgeMs?: number; minVersion?: number } = {}): Promise<HomeRead> {
    checkUserKey(key);
    const rk = recordKey(key);
    const cache = this.cacheFor(key);
    const before = this.owned(key, (await cache.getWithStrongConsistency<HomeRecord>(rk)).value);
    const r = await cache.getWithStrongConsistency(key, opts);
    const after = this.owned(key, (await cache.getWithStrongConsistency<HomeRecord>(rk)).value);
    if (after !== before) throw new NotHomeError(key, this.region, after); // adopted meanwhile: ask again
    return { value: r.value, version: r.version, ageMs: r.ageMs, source: r.source, epoch: after };
  }

  async set(key: string, value: unknown): Promise<{ version: number; epoch: number }> {
    checkUserKey(key);
    const rk = recordKey(key);
    const { result, versions } = await this.cacheFor(key).transaction([key, rk], (tx) => {
      const epoch = this.owned(key, tx.get<HomeRecord>(rk));
      tx.set(key, value);
      return epoch;
    });
    return { version: versions[key]!, epoch: result };
  }

  /**
   * Fence: from this transaction on, this region refuses `key`; returns what the new home needs. Calling it
   * again for the same destination returns the same (the move can be resumed after a failure).
   */
  async fenceOut(key: string, to: string): Promise<MovedKey> {
    checkUserKey(key);
    if (to === this.region) throw new InvalidInputError(`${key} is already homed in ${to}`);
    const rk = recordKey(key);
    const { result } = await this.cacheFor(key).transaction([key, rk], (tx) => {
      const record = tx.get<HomeRecord>(rk);
      let epoch: number;
      if (record?.state === "moved" && record.to === to) epoch = record.epoch;
      else {
        epoch = this.owned(key, record) + 1;
        tx.set(rk, { state: "moved", epoch, to } satisfies HomeRecord);
      }
      return { key, value: tx.get(key), version: tx.version(key), epoch };
    });
    return result;
  }

  /** Takes ownership of a fenced key (idempotent per epoch); versions keep growing across the move. */
  async adopt(moved: MovedKey): Promise<{ version: number; epoch: number }> {
    checkUserKey(moved.key);
    const rk = recordKey(moved.key);
    const current = await this.cacheFor(moved.key).getWithStrongConsistency<HomeRecord>(rk);
    if ((current.value?.epoch ?? 0) < moved.epoch) await this.raiseVersion(moved.key, moved.version);
    const { versions } = await this.cacheFor(moved.key).transaction([moved.key, rk], (tx) => {
      const record = tx.get<HomeRecord>(rk);
      if (record && record.epoch >= moved.epoch) {
        if (record.state === "home") return; // this epoch was adopted already
        throw new NotHomeError(moved.key, record.to!, record.epoch); // it moved on meanwhile
      }
      if (moved.value !== undefined) tx.set(moved.key, moved.value);
      tx.set(rk, { state: "home", epoch: moved.epoch } satisfies HomeRecord);
    });
    return { version: versions[moved.key]!, epoch: moved.epoch };
  }

  /**
   * Lifts this home's row version to at least the old home's, so a reader's version never goes backwards
   * across a move. Safe outside the write protocol: the record does not say "home" here for this epoch, so every
   * read of the key in this region is refused until adopt's transaction has rewritten and re-cached it.
   */
  private async raiseVersion(key: string, version: number): Promise<void> {
    await this.pool.query(
      `INSERT INTO ${this.cache.table.table} AS t (key, value, version, fence) VALUES ($1, NULL, $2, 0)
       ON CONFLICT (key) DO UPDATE SET version = GREATEST(t.version, EXCLUDED.version)`,
      [key, version],
    );
  }
}
