// A PostgreSQL pool whose search_path is the node's schema (MERIDIAN_PG_SCHEMA, created if missing): where
// the critical table and the writer-incarnation rows live, so both stay in one place whatever the node serves.
import { InvalidInputError, type MeridianConfig } from "@meridian/core";
import { checkPg, createIfAbsent, createPgPool, type PgPool } from "@meridian/store";

const SCHEMA_PATTERN = /^[a-z_][a-z0-9_]{0,62}$/;

export interface SchemaPoolOptions {
  /** search_path of every connection (created if missing); default: the server's default. */
  schema?: string;
  max: number;
}

/** Opens the pool and checks that PostgreSQL answers (BackendUnavailableError otherwise). */
export async function openSchemaPool(config: MeridianConfig, opts: SchemaPoolOptions): Promise<PgPool> {
  const { schema } = opts;
  if (schema !== undefined && !SCHEMA_PATTERN.test(schema)) {
    throw new InvalidInputError("schema must be a lower-case SQL identifier", { schema });
  }
  if (schema) {
    const admin = createPgPool(config.pgUrl, { max: 1, auth: config.pgAuth });
    try {
      await checkPg(admin);
      await createIfAbsent(admin, `CREATE SCHEMA IF NOT EXISTS ${schema}`);
    } finally {
      await admin.end();
    }
  }
  const pool = createPgPool(config.pgUrl, {
    max: opts.max,
    auth: config.pgAuth,
    ...(schema ? { searchPath: schema } : {}),
  });
  try {
    await checkPg(pool);
  } catch (err) {
    await pool.end();
    throw err;
  }
  return pool;
}
