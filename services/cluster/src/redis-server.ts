// A private redis-server child process on a free port, without persistence: the processes topology runs
// one per region (kill it, and only that region loses its L2), and the fault tests freeze it, kill -9 it,
// and restart it empty on the same port — or from the snapshot a test took with SAVE (a server that comes
// back with old data). Never the shared server: flushing or killing this one hurts nobody.
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { BackendUnavailableError, parseRegion } from "@meridian/core";
import { checkRedis, createRedis } from "@meridian/store";
import { freePort } from "./child.js";

export interface RedisServerOptions {
  /** Default: a free port. */
  port?: number;
  /** The binary (default `MERIDIAN_REDIS_SERVER_BIN`, else `redis-server` from PATH). */
  bin?: string;
  /** Appended to the command line, e.g. `--user` rules for a server with ACL users. */
  extraArgs?: readonly string[];
  /** How long a (re)start may take to answer PING (default 10 s). */
  startTimeoutMs?: number;
}

export interface RedisServerProcess {
  readonly url: string;
  readonly port: number;
  /** The current child's pid (changes after a restart). */
  readonly pid: number;
  /** The current child (changes after a restart). */
  readonly child: ChildProcess;
  /** Sends `signal` (default SIGKILL: a crash); for a signal that ends the server, resolves once it exited. */
  kill(signal?: NodeJS.Signals): Promise<void>;
  /** SIGSTOP: the TCP connections stay open but nothing is answered. */
  freeze(): void;
  /** SIGCONT after freeze(). */
  thaw(): void;
  /** kill() then start a fresh, empty server on the same port; resolves once it answers PING. */
  restartEmpty(): Promise<void>;
  /** kill() then start again loading the last snapshot the test made (`SAVE`): old data comes back. */
  restartFromSnapshot(): Promise<void>;
  /** SIGKILL (nothing is persisted, so nothing to flush) and the private folder removed; idempotent. */
  stop(): Promise<void>;
}

/** Signals after which the server is gone (SIGSTOP/SIGCONT leave it running). */
const ENDING: ReadonlySet<NodeJS.Signals> = new Set(["SIGKILL", "SIGTERM", "SIGINT", "SIGQUIT"]);

function spawnServer(bin: string, port: number, dir: string, extraArgs: readonly string[]): ChildProcess {
  // No automatic snapshots (--save ''), no AOF: only an explicit SAVE writes dump.rdb in the private dir.
  const child = spawn(
    bin,
    [
      ...["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
      ...["--daemonize", "no", "--dir", dir, "--dbfilename", "dump.rdb"],
      ...extraArgs,
    ],
    { stdio: "ignore" },
  );
  child.on("error", () => undefined); // a missing binary shows as "did not answer PING"
  return child;
}

/** True once the server answers (an ACL server refusing the default user still proves it listens). */
async function answersPing(url: string): Promise<boolean> {
  const client = createRedis(url);
  client.on("error", () => undefined); // refused until the server listens: the loop retries
  try {
    await checkRedis(client);
    return true;
  } catch (err) {
    return /NOAUTH|NOPERM|WRONGPASS/.test((err as Error).message);
  } finally {
    client.disconnect();
  }
}

function exitOf(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once("exit", () => resolve()));
}

async function waitForPing(url: string, child: ChildProcess, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await answersPing(url))) {
    if (child.exitCode !== null || Date.now() > deadline) {
      throw new BackendUnavailableError(`redis-server at ${url} did not answer PING within ${timeoutMs} ms`, {
        url,
      });
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Starts `redis-server --port <free> --save '' --appendonly no` and resolves once it answers PING. */
export async function startRedisServer(opts: RedisServerOptions = {}): Promise<RedisServerProcess> {
  const port = opts.port ?? (await freePort());
  const bin = opts.bin ?? process.env.MERIDIAN_REDIS_SERVER_BIN ?? "redis-server";
  const extraArgs = opts.extraArgs ?? [];
  const timeoutMs = opts.startTimeoutMs ?? 10_000;
  const url = `redis://127.0.0.1:${port}`;
  const dir = mkdtempSync(join(tmpdir(), "meridian-redis-"));
  let child = spawnServer(bin, port, dir, extraArgs);
  let stopped = false;
  // A test or launcher that dies before its stop() must not leave a server behind.
  const onExit = () => child.kill("SIGKILL");
  process.once("exit", onExit);

  const kill = async (signal: NodeJS.Signals = "SIGKILL") => {
    child.kill(signal); // SIGKILL works on a SIGSTOPped server too
    if (ENDING.has(signal)) await exitOf(child);
  };
  const restart = async (keepSnapshot: boolean) => {
    await kill();
    if (!keepSnapshot) rmSync(join(dir, "dump.rdb"), { force: true });
    child = spawnServer(bin, port, dir, extraArgs);
    await waitForPing(url, child, timeoutMs);
  };
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    process.removeListener("exit", onExit);
    await kill();
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await waitForPing(url, child, timeoutMs);
  } catch (err) {
    await stop();
    throw err;
  }
  return {
    url,
    port,
    get pid() {
      return child.pid!;
    },
    get child() {
      return child;
    },
    kill,
    freeze: () => void child.kill("SIGSTOP"),
    thaw: () => void child.kill("SIGCONT"),
    restartEmpty: () => restart(false),
    restartFromSnapshot: () => restart(true),
    stop,
  };
}

/** One private redis-server per region, so a region's Redis can fail alone (kill -9, freeze, restart). */
export class RegionRedisServers {
  private constructor(private readonly servers: Record<string, RedisServerProcess>) {}

  static async start(regions: readonly string[], opts: RedisServerOptions = {}): Promise<RegionRedisServers> {
    const started = await Promise.allSettled(regions.map(() => startRedisServer(opts)));
    const up = started.flatMap((s) => (s.status === "fulfilled" ? [s.value] : []));
    const failed = started.find((s) => s.status === "rejected");
    if (failed) {
      await Promise.all(up.map((s) => s.stop()));
      throw failed.reason;
    }
    return new RegionRedisServers(Object.fromEntries(regions.map((r, i) => [r, up[i]!])));
  }

  of(region: string): RedisServerProcess {
    return this.servers[parseRegion(region, Object.keys(this.servers))]!;
  }

  async stopAll(): Promise<void> {
    await Promise.all(Object.values(this.servers).map((s) => s.stop()));
  }
}
