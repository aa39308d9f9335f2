// A private redis-server child process on a free port without persistence: the processes topology runs
// one per region, so a region's Redis fails alone (kill it, and only that region loses its L2).
import { type ChildProcess, spawn } from "node:child_process";
import { BackendUnavailableError } from "@meridian/core";
import { checkRedis, createRedis } from "@meridian/store";
import { freePort, terminate } from "./child.js";

export interface RedisServerProcess {
  readonly url: string;
  readonly port: number;
  readonly pid: number;
  /** Sends a signal (SIGKILL: a crash, SIGSTOP: a freeze) without waiting. */
  kill(signal?: NodeJS.Signals): void;
  /** Terminates the server and waits until it exited. */
  stop(): Promise<void>;
}

async function answersPing(url: string): Promise<boolean> {
  const client = createRedis(url);
  client.on("error", () => undefined); // refused until the server listens: the loop retries
  try {
    await checkRedis(client);
    return true;
  } catch {
    return false;
  } finally {
    client.disconnect();
  }
}

function exitOf(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve();
    else child.once("exit", () => resolve());
  });
}

/** Starts `redis-server` (binary `bin`, default from PATH) and resolves once it answers PING (≤ 10 s). */
export async function startRedisServer(bin = "redis-server"): Promise<RedisServerProcess> {
  const port = await freePort();
  const child = spawn(
    bin,
    ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
    {
      stdio: "ignore",
    },
  );
  const exited = exitOf(child);
  const url = `redis://127.0.0.1:${port}`;
  const stop = () => terminate(child, exited);
  const deadline = Date.now() + 10_000;
  while (!(await answersPing(url))) {
    if (child.exitCode !== null || Date.now() > deadline) {
      await stop();
      throw new BackendUnavailableError(`redis-server on port ${port} did not answer PING`, { port });
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return { url, port, pid: child.pid!, kill: (signal = "SIGKILL") => child.kill(signal), stop };
}
