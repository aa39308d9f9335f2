// A PostgreSQL schema of its own for one bench or test run, so runs never see each other's tables and
// a run's tables go away with it.
import pg from "pg";

export interface PrivateSchema {
  name: string;
  /** Connections whose search_path is the schema. */
  pool: pg.Pool;
  /** A connection outside the schema (creates and drops it; tests use it to end `pool`'s backends). */
  admin: pg.Pool;
  /** Ends both pools and drops the schema with everything in it. */
  drop(): Promise<void>;
}

/**
 * Creates schema `name` and a pool of at most `poolMax` connections inside it. Idle-client errors are
 * ignored on both pools: runs end backends on purpose (fault injection, a stopped server).
 */
export async function createPrivateSchema(
  pgUrl: string,
  name: string,
  poolMax: number,
): Promise<PrivateSchema> {
  const admin = new pg.Pool({ connectionString: pgUrl, max: 2 });
  admin.on("error", () => {});
  await admin.query(`CREATE SCHEMA ${name}`);
  const pool = new pg.Pool({ connectionString: pgUrl, max: poolMax, options: `-c search_path=${name}` });
  pool.on("error", () => {});
  return {
    name,
    pool,
    admin,
    async drop() {
      await pool.end();
      await admin.query(`DROP SCHEMA IF EXISTS ${name} CASCADE`);
      await admin.end();
    },
  };
}
