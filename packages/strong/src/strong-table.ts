// PostgreSQL, the source of truth: (key, value jsonb, version bigint, fence bigint). A NULL value is an
// absent key (rows at version 0 are placeholders that let a transaction lock a key that does not exist yet).
// Fencing: a write carrying a token applies only if the token is strictly larger than the last one applied,
// or equal AND from the same holder (one acquisition writing the same key several times). A different holder
// with an equal token is refused, so even a token handed out twice cannot let a stale holder win.
import { FencingTokenError, InvalidInputError } from "@meridian/core";
import { createIfAbsent } from "@meridian/store";
import type pg from "pg";

/** A lock's fencing token and the acquisition (lock token) that carries it. */
export interface Fence {
  token: number;
  holder: string;
}

// SQL fragment: may a write carrying ($fence, $holder) apply to row t?
const FENCE_OK = (f: string, h: string) =>
  `(${f}::bigint IS NULL OR t.fence < ${f}::bigint OR (t.fence = ${f}::bigint AND t.fence_holder = ${h}::text))`;
const NEXT_FENCE = (f: string) => `GREATEST(t.fence, COALESCE(${f}::bigint, 0))`;
const NEXT_HOLDER = (f: string, h: string) =>
  `CASE WHEN ${f}::bigint IS NULL THEN t.fence_holder ELSE ${h}::text END`;

export interface Row {
  /** JSON text, undefined when absent. */
  json: string | undefined;
  version: number;
}

type Querier = pg.Pool | pg.PoolClient;

/** One set of a commit group. */
export interface GroupWrite {
  key: string;
  json: string;
  fence?: Fence;
}

/** Indexes of `writes` split so that no key appears twice in a round; order within a key is kept. */
function rounds(writes: readonly GroupWrite[]): number[][] {
  const out: number[][] = [];
  const seen = new Map<string, number>(); // key -> how many rounds it already has
  writes.forEach((w, i) => {
    const n = seen.get(w.key) ?? 0;
    seen.set(w.key, n + 1);
    if (n === out.length) out.push([]);
    out[n]!.push(i);
  });
  return out;
}

function toRow(row: { v: string | null; version: string } | undefined): Row {
  return row ? { json: row.v ?? undefined, version: Number(row.version) } : { json: undefined, version: 0 };
}

/** A query with a client-side bound (pg's query_timeout; 0 = the pool's default). */
function bounded(text: string, values: unknown[], timeoutMs: number): pg.QueryConfig {
  return (timeoutMs > 0 ? { text, values, query_timeout: timeoutMs } : { text, values }) as pg.QueryConfig;
}

export class StrongTable {
  constructor(
    private readonly pool: pg.Pool,
    readonly table = "meridian_strong",
  ) {
    if (!/^[a-z_][a-z0-9_]*$/.test(table)) throw new InvalidInputError(`bad table name ${table}`);
  }

  async ensureSchema(): Promise<void> {
    await createIfAbsent(
      this.pool,
      `CREATE TABLE IF NOT EXISTS ${this.table} (
         key text PRIMARY KEY,
         value jsonb,
         version bigint NOT NULL DEFAULT 0,
         fence bigint NOT NULL DEFAULT 0,
         updated_at timestamptz NOT NULL DEFAULT now())`,
    );
    await this.pool.query(`ALTER TABLE ${this.table} ADD COLUMN IF NOT EXISTS fence_holder text`);
  }

  async read(key: string, q: Querier = this.pool, timeoutMs = 0): Promise<Row> {
    const r = await q.query<{ v: string | null; version: string }>(
      bounded(`SELECT value::text AS v, version FROM ${this.table} WHERE key = $1`, [key], timeoutMs),
    );
    return toRow(r.rows[0]);
  }

  /**
   * The read behind a cache fill. `fillable` only if the row exists and no writer holds its lock right now
   * (FOR SHARE NOWAIT): then every later writer locks the row after this read, and its invalidation voids
   * the reader's lease. A write in flight (whose "being written" marker Redis may have lost in a restart)
   * or a row being inserted (invisible until commit) makes the read unfillable: served, never cached.
   */
  async readForFill(key: string, timeoutMs = 0): Promise<{ row: Row; fillable: boolean }> {
    try {
      const r = await this.pool.query<{ v: string | null; version: string }>(
        bounded(
          `SELECT value::text AS v, version FROM ${this.table} WHERE key = $1 FOR SHARE NOWAIT`,
          [key],
          timeoutMs,
        ),
      );
      return { row: toRow(r.rows[0]), fillable: r.rows.length === 1 };
    } catch (err) {
      if ((err as { code?: string }).code !== "55P03") throw err; // lock_not_available: a writer holds it
      return { row: await this.read(key, this.pool, timeoutMs), fillable: false };
    }
  }

  /** Upsert inside the caller's transaction; returns the new version. */
  async write(client: pg.PoolClient, key: string, json: string, fence: Fence | undefined): Promise<number> {
    const r = await client.query<{ version: string }>(
      `INSERT INTO ${this.table} AS t (key, value, version, fence, fence_holder)
       VALUES ($1, $2::jsonb, 1, COALESCE($3::bigint, 0), $4::text)
       ON CONFLICT (key) DO UPDATE
         SET value = EXCLUDED.value, version = t.version + 1,
             fence = ${NEXT_FENCE("$3")}, fence_holder = ${NEXT_HOLDER("$3", "$4")}, updated_at = now()
         WHERE ${FENCE_OK("$3", "$4")}
       RETURNING version`,
      [key, json, fence?.token ?? null, fence?.holder ?? null],
    );
    if (r.rows[0]) return Number(r.rows[0].version);
    throw await this.fenceError(client, [key], fence!);
  }

  /**
   * Several independent sets in the caller's transaction (a commit group). Each write passes or fails its
   * own fence check: a refused one changes nothing and the others still apply (its result is the error).
   * The first round holds every key of the group once: one multi-row upsert, which inserts new keys and
   * locks existing rows in key order (no deadlock with other groups or transactions) — one statement for
   * the whole group. A key written twice goes in a later round (an UPDATE of the rows now locked), so
   * each write gets its own version in submission order.
   */
  async writeGroup(
    client: pg.PoolClient,
    writes: readonly GroupWrite[],
  ): Promise<(number | FencingTokenError)[]> {
    if (writes.length === 1) return [await this.writeOrRefusal(client, writes[0]!)];
    const results: (number | FencingTokenError)[] = new Array(writes.length);
    const [first = [], ...later] = rounds(writes);
    const byKey = (a: number, b: number) => (writes[a]!.key < writes[b]!.key ? -1 : 1);
    await this.applyRound(client, writes, [...first].sort(byKey), results, this.upsertRoundSql());
    for (const round of later) await this.applyRound(client, writes, round, results, this.updateRoundSql());
    return results;
  }

  /** One round's statement (each key once), then each write's version or its fence refusal. */
  private async applyRound(
    client: pg.PoolClient,
    writes: readonly GroupWrite[],
    round: readonly number[],
    results: (number | FencingTokenError)[],
    sql: string,
  ): Promise<void> {
    const r = await client.query<{ key: string; version: string }>(sql, [
      round.map((i) => writes[i]!.key),
      round.map((i) => writes[i]!.json),
      round.map((i) => writes[i]!.fence?.token ?? null),
      round.map((i) => writes[i]!.fence?.holder ?? null),
    ]);
    const applied = new Map(r.rows.map((x) => [x.key, Number(x.version)]));
    for (const i of round) {
      const w = writes[i]!;
      results[i] = applied.get(w.key) ?? (await this.fenceError(client, [w.key], w.fence!));
    }
  }

  /**
   * Upsert of many keys in key order ($1 keys, $2 values, $3 fences, $4 holders). In ON CONFLICT only
   * EXCLUDED carries the write: a fenced write always has a holder, so a NULL holder means "no fence".
   */
  private upsertRoundSql(): string {
    const f = "(CASE WHEN EXCLUDED.fence_holder IS NULL THEN NULL ELSE EXCLUDED.fence END)";
    const h = "EXCLUDED.fence_holder";
    return `INSERT INTO ${this.table} AS t (key, value, version, fence, fence_holder)
       SELECT u.k, u.v::jsonb, 1, COALESCE(u.f, 0), u.h
         FROM unnest($1::text[], $2::text[], $3::bigint[], $4::text[]) AS u(k, v, f, h) ORDER BY u.k
       ON CONFLICT (key) DO UPDATE
         SET value = EXCLUDED.value, version = t.version + 1,
             fence = ${NEXT_FENCE(f)}, fence_holder = ${NEXT_HOLDER(f, h)}, updated_at = now()
         WHERE ${FENCE_OK(f, h)}
       RETURNING t.key, t.version`;
  }

  /** Update of rows already locked by this transaction (same parameters as the upsert). */
  private updateRoundSql(): string {
    return `UPDATE ${this.table} AS t SET value = u.v::jsonb, version = t.version + 1,
              fence = ${NEXT_FENCE("u.f")}, fence_holder = ${NEXT_HOLDER("u.f", "u.h")}, updated_at = now()
       FROM unnest($1::text[], $2::text[], $3::bigint[], $4::text[]) AS u(k, v, f, h)
       WHERE t.key = u.k AND ${FENCE_OK("u.f", "u.h")}
       RETURNING t.key, t.version`;
  }

  /** A group of one: the plain upsert (one statement), its fence refusal returned instead of thrown. */
  private async writeOrRefusal(client: pg.PoolClient, w: GroupWrite): Promise<number | FencingTokenError> {
    try {
      return await this.write(client, w.key, w.json, w.fence);
    } catch (err) {
      if (err instanceof FencingTokenError) return err;
      throw err;
    }
  }

  /** Locks the rows of `keys` in key order (creating placeholders), returning their current state. */
  async lockRows(
    client: pg.PoolClient,
    keys: readonly string[],
  ): Promise<Map<string, Row & { fence: number }>> {
    const sorted = [...new Set(keys)].sort();
    await client.query(
      `INSERT INTO ${this.table} (key, value, version, fence) SELECT k, NULL, 0, 0 FROM unnest($1::text[]) AS k
       ORDER BY k ON CONFLICT (key) DO NOTHING`,
      [sorted],
    );
    const r = await client.query<{ key: string; v: string | null; version: string; fence: string }>(
      `SELECT key, value::text AS v, version, fence FROM ${this.table} WHERE key = ANY($1::text[]) ORDER BY key FOR UPDATE`,
      [sorted],
    );
    return new Map(
      r.rows.map((x) => [
        x.key,
        { json: x.v ?? undefined, version: Number(x.version), fence: Number(x.fence) },
      ]),
    );
  }

  /** Updates locked rows; all or nothing with respect to the fence. Returns new versions. */
  async updateLocked(
    client: pg.PoolClient,
    writes: ReadonlyMap<string, string>,
    fence: Fence | undefined,
  ): Promise<Map<string, number>> {
    const keys = [...writes.keys()];
    const r = await client.query<{ key: string; version: string }>(
      `UPDATE ${this.table} AS t SET value = u.v::jsonb, version = t.version + 1,
              fence = ${NEXT_FENCE("$3")}, fence_holder = ${NEXT_HOLDER("$3", "$4")}, updated_at = now()
       FROM unnest($1::text[], $2::text[]) AS u(k, v)
       WHERE t.key = u.k AND ${FENCE_OK("$3", "$4")}
       RETURNING t.key, t.version`,
      [keys, [...writes.values()], fence?.token ?? null, fence?.holder ?? null],
    );
    if (r.rows.length !== keys.length) throw await this.fenceError(client, keys, fence!);
    return new Map(r.rows.map((x) => [x.key, Number(x.version)]));
  }

  async fenceError(client: pg.PoolClient, keys: string[], fence: Fence): Promise<FencingTokenError> {
    const r = await client.query<{ key: string; fence: string }>(
      `SELECT key, fence FROM ${this.table} AS t WHERE key = ANY($1::text[]) AND NOT ${FENCE_OK("$2", "$3")}`,
      [keys, fence.token, fence.holder],
    );
    const seen = r.rows.map((x) => ({ key: x.key, fence: Number(x.fence) }));
    return new FencingTokenError(
      `fencing token ${fence.token} is not newer than the one the database last applied (from another holder)`,
      { fence: fence.token, seen },
    );
  }
}
