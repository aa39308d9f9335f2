// createIfAbsent against the real PostgreSQL: sessions racing to create the same table or schema (as
// region processes starting together do) all succeed; any other DDL error still rejects.
import { configFromEnv } from "@meridian/core";
import { createIfAbsent, createPgPool } from "@meridian/store";
import { afterAll, describe, expect, it } from "vitest";

const pool = createPgPool(configFromEnv().pgUrl, { max: 8 });
const run = `${Date.now().toString(36)}_${Math.random().toString(36).slice(2, 8)}`;
const tables: string[] = [];
const schemas: string[] = [];

afterAll(async () => {
  for (const t of tables) await pool.query(`DROP TABLE IF EXISTS ${t}`);
  for (const s of schemas) await pool.query(`DROP SCHEMA IF EXISTS ${s} CASCADE`);
  await pool.end();
});

const race = (ddl: string) => Promise.all(Array.from({ length: 8 }, () => createIfAbsent(pool, ddl)));

describe("createIfAbsent", () => {
  it("eight sessions creating one new table or schema at once all succeed, round after round", async () => {
    for (let round = 0; round < 15; round++) {
      const table = `t_ddl_${run}_${round}`;
      const schema = `s_ddl_${run}_${round}`;
      tables.push(table);
      schemas.push(schema);
      await race(`CREATE TABLE IF NOT EXISTS ${table} (k text PRIMARY KEY, v bigint NOT NULL)`);
      await race(`CREATE SCHEMA IF NOT EXISTS ${schema}`);
      const found = await pool.query(
        "SELECT (SELECT count(*) FROM pg_tables WHERE tablename = $1) AS t, (SELECT count(*) FROM pg_namespace WHERE nspname = $2) AS s",
        [table, schema],
      );
      expect(found.rows[0]).toEqual({ t: "1", s: "1" });
    }
  });

  it("rejects DDL that fails for another reason", async () => {
    await expect(
      createIfAbsent(pool, "CREATE TABLE IF NOT EXISTS bad table name (x int)"),
    ).rejects.toMatchObject({
      code: "42601",
    });
  });
});
