// PostgreSQL with a password: the pool made from the MERIDIAN_* settings (MERIDIAN_PG_PASSWORD, or _FILE)
// logs in; a wrong or missing password is a typed BackendUnavailableError within the connect bound; the
// password never appears in the error or the config. A private server that only accepts scram-sha-256.
import { randomUUID } from "node:crypto";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BackendUnavailableError, configFromEnv } from "../../packages/core/src/index.js";
import { checkPg, createPgPool } from "../../packages/store/src/index.js";
import { type PasswordPostgres, startPasswordPostgres } from "../support/password-postgres.js";

const PASSWORD = `pg-${randomUUID()}`;
let server: PasswordPostgres;

beforeAll(async () => {
  server = await startPasswordPostgres(PASSWORD);
}, 60_000);
afterAll(async () => {
  await server?.stop();
});

async function login(env: NodeJS.ProcessEnv): Promise<unknown> {
  const cfg = configFromEnv({ MERIDIAN_PG_URL: server.url, ...env });
  const pool = createPgPool(cfg.pgUrl, { max: 1, auth: cfg.pgAuth!, connectionTimeoutMs: 5_000 });
  try {
    await checkPg(pool);
    return (await pool.query("SELECT current_user AS u")).rows[0]?.u;
  } catch (err) {
    return err;
  } finally {
    await pool.end();
  }
}

describe("PostgreSQL password", () => {
  it("logs in with MERIDIAN_PG_PASSWORD or _FILE; a wrong or missing one is a typed, bounded error", async () => {
    expect(await login({ MERIDIAN_PG_PASSWORD: PASSWORD })).toBe("postgres");
    const file = join(mkdtempSync(join(tmpdir(), "pgpw-")), "pw");
    writeFileSync(file, `${PASSWORD}\n`, { mode: 0o600 });
    expect(await login({ MERIDIAN_PG_PASSWORD_FILE: file })).toBe("postgres");

    const wrong = `wrong-${randomUUID()}`;
    for (const env of [{ MERIDIAN_PG_PASSWORD: wrong }, {}]) {
      const t0 = Date.now();
      const err = await login(env);
      expect(err).toBeInstanceOf(BackendUnavailableError);
      expect(Date.now() - t0).toBeLessThan(10_000);
      const shown = `${(err as Error).message} ${JSON.stringify(err)}`;
      expect(shown).not.toContain(PASSWORD);
      expect(shown).not.toContain(wrong);
    }
    const cfg = configFromEnv({ MERIDIAN_PG_URL: server.url, MERIDIAN_PG_PASSWORD: PASSWORD });
    expect(JSON.stringify(cfg)).not.toContain(PASSWORD);
  });
});
