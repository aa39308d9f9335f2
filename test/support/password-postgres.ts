// A private PostgreSQL on a free port that accepts only password logins (scram-sha-256, even from
// 127.0.0.1), for tests of credentials; the shared server trusts local connections, so it cannot tell a
// right password from a wrong one. Runs as the `postgres` OS user when started by root (initdb refuses
// root). Killed and its folder removed by stop().
import { execFile, spawn } from "node:child_process";
import { chownSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { freePort } from "@meridian/cluster";
import pg from "pg";
import { killGroupAndRemove } from "./process-group.js";

const run = promisify(execFile);

export interface PasswordPostgres {
  /** postgres://postgres@127.0.0.1:<port>/postgres — no password in the URL. */
  readonly url: string;
  readonly password: string;
  stop(): Promise<void>;
}

/** Root cannot run initdb/postgres: run them as the `postgres` user then. */
function asServerUser(cmd: string, args: string[]): [string, string[]] {
  return process.getuid?.() === 0 ? ["runuser", ["-u", "postgres", "--", cmd, ...args]] : [cmd, args];
}

export async function startPasswordPostgres(password: string): Promise<PasswordPostgres> {
  const dir = mkdtempSync(join(tmpdir(), "meridian-pg-"));
  const port = await freePort();
  const pwfile = join(dir, "pw");
  writeFileSync(pwfile, password, { mode: 0o600 });
  if (process.getuid?.() === 0) {
    const { stdout } = await run("id", ["-u", "postgres"]);
    const uid = Number(stdout.trim());
    chownSync(dir, uid, uid);
    chownSync(pwfile, uid, uid);
  }
  const data = join(dir, "data");
  let pid: number | undefined;
  const stop = () => killGroupAndRemove(pid, dir);
  try {
    const init = ["-D", data, "-U", "postgres", "--auth=scram-sha-256", `--pwfile=${pwfile}`, "-E", "UTF8"];
    await run(...asServerUser("initdb", init));
    const [cmd, args] = asServerUser("postgres", [
      ...["-D", data, "-p", String(port), "-k", dir, "-c", "listen_addresses=127.0.0.1", "-c", "fsync=off"],
    ]);
    const child = spawn(cmd, args, { stdio: "ignore", detached: true });
    child.on("error", () => {});
    pid = child.pid;
    process.once("exit", () => void stop());
    const url = `postgres://postgres@127.0.0.1:${port}/postgres`;
    const end = Date.now() + 30_000;
    for (;;) {
      const c = new pg.Client({
        ...{ host: "127.0.0.1", port, user: "postgres", database: "postgres" },
        ...{ password, connectionTimeoutMillis: 2000 },
      });
      try {
        await c.connect();
        await c.end();
        break;
      } catch (err) {
        await c.end().catch(() => {});
        if (Date.now() > end) throw err;
        await new Promise((r) => setTimeout(r, 200));
      }
    }
    return { url, password, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}
