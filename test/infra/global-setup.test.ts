// The integration global setup: reads infra/.state/env without overriding what the caller set, and
// refuses to start the suite when a server does not answer, naming the variable and the address.
import { mkdtempSync, writeFileSync } from "node:fs";
import net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import setup, { loadStateEnv } from "../support/global-setup.js";

const VARS = [
  "MERIDIAN_KAFKA_BROKERS",
  "MERIDIAN_REDIS_URL",
  "MERIDIAN_PG_URL",
  "MERIDIAN_SCHEMA_REGISTRY_URL",
  "MERIDIAN_INFRA_STATE",
] as const;
const saved = Object.fromEntries(VARS.map((v) => [v, process.env[v]]));

afterEach(() => {
  for (const v of VARS) {
    if (saved[v] === undefined) delete process.env[v];
    else process.env[v] = saved[v];
  }
});

/** A port on 127.0.0.1 that nothing listens on (bound, then released). */
async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((r) => server.close(r));
  return port;
}

describe("global setup", () => {
  it("loads export lines from the state file but keeps variables already set", () => {
    const dir = mkdtempSync(join(tmpdir(), "meridian-env-"));
    const file = join(dir, "env");
    writeFileSync(
      file,
      [
        "# comment",
        "export MERIDIAN_KAFKA_BROKERS='127.0.0.1:1111'",
        "export MERIDIAN_REDIS_URL='redis://127.0.0.1:2222'",
        "not an export line",
      ].join("\n"),
    );
    const env: NodeJS.ProcessEnv = { MERIDIAN_REDIS_URL: "redis://mine:6379" };
    expect(loadStateEnv(file, env)).toEqual(["MERIDIAN_KAFKA_BROKERS"]);
    expect(env.MERIDIAN_KAFKA_BROKERS).toBe("127.0.0.1:1111");
    expect(env.MERIDIAN_REDIS_URL).toBe("redis://mine:6379");
    expect(loadStateEnv(join(dir, "missing"), env)).toEqual([]);
  });

  it("fails fast naming every unreachable server", async () => {
    const port = await closedPort();
    process.env.MERIDIAN_INFRA_STATE = mkdtempSync(join(tmpdir(), "meridian-state-"));
    process.env.MERIDIAN_REDIS_URL = `redis://127.0.0.1:${port}`;
    process.env.MERIDIAN_PG_URL = `postgres://postgres@127.0.0.1:${port}/postgres`;
    const error = await setup().then(
      () => null,
      (e: unknown) => e as Error,
    );
    expect(error).toBeInstanceOf(Error);
    expect(error?.message).toContain(`MERIDIAN_REDIS_URL=redis://127.0.0.1:${port}`);
    expect(error?.message).toContain(`MERIDIAN_PG_URL=postgres://postgres@127.0.0.1:${port}/postgres`);
    expect(error?.message).toContain("pnpm infra:up");
    expect(error?.message).not.toContain("MERIDIAN_KAFKA_BROKERS=");
  });
});
