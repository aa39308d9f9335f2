// A private redis-server child process for fault tests: freeze it (SIGSTOP), thaw it, kill -9 it, and
// restart it EMPTY on the same port — or from the snapshot a test took with SAVE (a server that comes back
// with old data). Never the shared server: flushing or killing this one hurts nobody.
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Redis } from "ioredis";

export interface RedisProcess {
  readonly port: number;
  readonly url: string;
  /** Current child (changes after restart). */
  readonly child: ChildProcess;
  /** SIGSTOP: the TCP connections stay open but nothing is answered. */
  freeze(): void;
  /** SIGCONT after freeze(). */
  thaw(): void;
  /** SIGKILL and wait for the exit (no persistence: everything is lost). */
  kill(): Promise<void>;
  /** kill() then start a fresh, empty server on the same port; resolves once it answers PING. */
  restartEmpty(): Promise<void>;
  /** kill() then start again loading the last snapshot the test made (`SAVE`): old data comes back. */
  restartFromSnapshot(): Promise<void>;
  /** kill() for good; idempotent. Call it in afterAll. */
  stop(): Promise<void>;
}

/** A free TCP port on 127.0.0.1 (asks the OS, then releases it). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const addr = srv.address();
      srv.close(() => (typeof addr === "object" && addr ? resolve(addr.port) : reject(new Error("no port"))));
    });
  });
}

function spawnServer(port: number, dir: string): ChildProcess {
  // No automatic snapshots (--save ''), no AOF: only an explicit SAVE writes dump.rdb in the private dir.
  const child = spawn(
    process.env.MERIDIAN_REDIS_SERVER_BIN ?? "redis-server",
    [
      ...["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
      ...["--daemonize", "no", "--dir", dir, "--dbfilename", "dump.rdb"],
    ],
    { stdio: "ignore" },
  );
  child.on("error", () => {});
  return child;
}

async function waitForPing(url: string, timeoutMs: number): Promise<void> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const probe = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
    probe.on("error", () => {});
    try {
      await probe.connect();
      if ((await probe.ping()) === "PONG") return;
    } catch {
      if (Date.now() > end) throw new Error(`redis-server at ${url} did not answer within ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 50));
    } finally {
      probe.disconnect();
    }
  }
}

function exitOf(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once("exit", () => resolve()));
}

/** Starts `redis-server --port <free> --save '' --appendonly no` and waits until it answers. */
export async function startRedisProcess(opts: { port?: number; startTimeoutMs?: number } = {}) {
  const port = opts.port ?? (await freePort());
  const url = `redis://127.0.0.1:${port}`;
  const timeout = opts.startTimeoutMs ?? 10_000;
  const dir = mkdtempSync(join(tmpdir(), "meridian-redis-"));
  let child = spawnServer(port, dir);
  let stopped = false;
  // A test that dies before its afterAll must not leave a server behind.
  const onExit = () => child.kill("SIGKILL");
  process.once("exit", onExit);
  await waitForPing(url, timeout);

  const kill = async () => {
    child.kill("SIGKILL"); // works on a SIGSTOPped process too
    await exitOf(child);
  };
  const proc: RedisProcess = {
    port,
    url,
    get child() {
      return child;
    },
    freeze: () => void child.kill("SIGSTOP"),
    thaw: () => void child.kill("SIGCONT"),
    kill,
    async restartEmpty() {
      await kill();
      rmSync(join(dir, "dump.rdb"), { force: true });
      child = spawnServer(port, dir);
      await waitForPing(url, timeout);
    },
    async restartFromSnapshot() {
      await kill();
      child = spawnServer(port, dir);
      await waitForPing(url, timeout);
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      process.removeListener("exit", onExit);
      await kill();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return proc;
}
