// One service (services/<name>/src/main.ts) as a child process of the processes topology: started with
// `node --import tsx`, its output in `<logDir>/<name>.log`, ready at its JSON "ready" log line.
import { type ChildProcess, spawn } from "node:child_process";
import { createWriteStream, type WriteStream } from "node:fs";
import { join, resolve } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { BackendUnavailableError } from "@meridian/core";
import { terminate } from "./child.js";

const ROOT = resolve(fileURLToPath(new URL("../../..", import.meta.url)));
const READY_TIMEOUT_MS = 60_000;

/** One service running as a child process. */
export interface ServiceProcess {
  readonly name: string;
  readonly pid: number;
  /** Its HTTP address (/metrics, /healthz, and the API for a region node). */
  readonly url: string;
  readonly exited: Promise<number | null>;
  kill(signal?: NodeJS.Signals): void;
  stop(): Promise<void>;
}

export interface Spawn {
  name: string;
  service: string;
  env: Record<string, string>;
  readyMsg: string;
}

/** Starts `node --import tsx services/<service>/src/main.ts`; resolves at its ready log line (with url). */
export async function spawnService(s: Spawn, logDir: string): Promise<ServiceProcess> {
  const log: WriteStream = createWriteStream(join(logDir, `${s.name}.log`), { flags: "a" });
  const child: ChildProcess = spawn(
    process.execPath,
    ["--import", "tsx", `services/${s.service}/src/main.ts`],
    {
      cwd: ROOT,
      env: { ...process.env, MERIDIAN_HOST: "127.0.0.1", MERIDIAN_PORT: "0", ...s.env },
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
  const exited = new Promise<number | null>((res) => child.once("exit", (code) => res(code)));
  void exited.then(() => log.end());
  child.stderr!.pipe(log, { end: false });
  const ready = new Promise<string>((res, rej) => {
    const timer = setTimeout(
      () => rej(new BackendUnavailableError(`${s.name} not ready in ${READY_TIMEOUT_MS} ms (log ${logDir})`)),
      READY_TIMEOUT_MS,
    );
    createInterface({ input: child.stdout! }).on("line", (line) => {
      log.write(`${line}\n`);
      if (!line.includes(s.readyMsg)) return;
      try {
        const json = JSON.parse(line) as { msg?: string; url?: string };
        if (json.msg === s.readyMsg && json.url) {
          clearTimeout(timer);
          res(json.url);
        }
      } catch {
        // not a JSON log line
      }
    });
    void exited.then((code) => {
      clearTimeout(timer);
      rej(new BackendUnavailableError(`${s.name} exited (${code}) before it was ready (log ${logDir})`));
    });
  });
  const stop = () => terminate(child, exited);
  const url = await ready.catch(async (err) => {
    await stop();
    throw err;
  });
  return { name: s.name, pid: child.pid!, url, exited, kill: (sig = "SIGKILL") => child.kill(sig), stop };
}
