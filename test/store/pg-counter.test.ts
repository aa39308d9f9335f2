// pgCounter against the real PostgreSQL: callers racing on a table that does not exist yet (as five region
// processes starting together do) all succeed, and every call gets a number no other call got.
import { configFromEnv } from "@meridian/core";
import { createPgPool, pgCounter } from "@meridian/store";
import { afterAll, describe, expect, it } from "vitest";

const pool = createPgPool(configFromEnv().pgUrl, { max: 12 });
const table = `t_pg_counter_${Date.now().toString(36)}_${Math.random().toString(36).slice(2, 8)}`;

afterAll(async () => {
  await pool.query(`DROP TABLE IF EXISTS ${table}`);
  await pool.end();
});

describe("pgCounter", () => {
  it("survives a concurrent first create and hands out each number once, starting at `first`", async () => {
    // Separate counters (each creates the table itself) on separate connections, like separate processes.
    const counters = Array.from({ length: 10 }, () => pgCounter(pool, table, "n", 0));
    const got = await Promise.all(counters.map((next) => next("ns")));
    expect([...got].sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(await counters[0]!("other")).toBe(0);
  });
});
