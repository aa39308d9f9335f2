// Runs a service's main.ts as a real child process (node --import tsx), so tests can SIGKILL it.
import { type ChildProcess, spawn } from "node:child_process";
import { createInterface } from "node:readline";
import { ROOT } from "./pipeline.js";

export interface ChildService {
  child: ChildProcess;
  exited: Promise<number | null>;
  /** The JSON log line that signalled readiness. */
  readyLine: Record<string, unknown>;
}

/** Spawns `services/<name>/src/main.ts` with extra env; resolves when a log line has msg === readyMsg. */
export function spawnService(
  name: string,
  env: Record<string, string>,
  readyMsg: string,
): Promise<ChildService> {
  return spawnNode(name, ["--import", "tsx", `services/${name}/src/main.ts`], env, readyMsg);
}

/** Spawns `node <args>` (from the repository root) with extra env; resolves like spawnService. */
export async function spawnNode(
  name: string,
  args: string[],
  env: Record<string, string>,
  readyMsg: string,
): Promise<ChildService> {
  const child = spawn(process.execPath, args, {
    cwd: ROOT,
    env: { ...process.env, MERIDIAN_PORT: "0", MERIDIAN_LOG_LEVEL: "info", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  const stderr: string[] = [];
  child.stderr!.on("data", (d: Buffer) => stderr.push(d.toString()));
  const readyLine = await new Promise<Record<string, unknown>>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`${name} not ready in 60 s: ${stderr.join("").slice(-2000)}`)),
      60_000,
    );
    createInterface({ input: child.stdout! }).on("line", (line) => {
      try {
        const json = JSON.parse(line) as Record<string, unknown>;
        if (json.msg === readyMsg) {
          clearTimeout(timer);
          resolve(json);
        }
      } catch {
        // not a log line
      }
    });
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`${name} exited (${code}) before ready: ${stderr.join("").slice(-2000)}`));
    });
  });
  return { child, exited, readyLine };
}

export async function stopService(s: ChildService | undefined): Promise<void> {
  if (!s || s.child.exitCode !== null || s.child.signalCode !== null) return;
  s.child.kill("SIGTERM");
  await s.exited;
}
