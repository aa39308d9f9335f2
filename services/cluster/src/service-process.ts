// One service as a child process of the processes topology: started from the services' esbuild bundle
// (as the image runs it), its output in `<logDir>/<name>.log`, ready at its JSON "ready" log line.
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { createWriteStream, type WriteStream } from "node:fs";
import { join, resolve } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { BackendUnavailableError } from "@meridian/core";
import { terminate } from "./child.js";

const ROOT = resolve(fileURLToPath(new URL("../../..", import.meta.url)));
// Bound on one process getting ready. Four region nodes start together; at load 20–25 on this 2-core
// machine each needed 40–70 s (Kafka admin + producer, five Redis clients, PostgreSQL schema checks).
const READY_TIMEOUT_MS = 120_000;
const START_ATTEMPTS = 3;

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

/**
 * Bundles the services once, as the image does (scripts/build-services.mjs, esbuild): every process then
 * starts plain JS instead of transpiling the workspace's TypeScript itself (tsx: about 2.9 s of CPU to
 * load the region node's modules, 0.4 s from the bundle), twelve times over on a 2-core machine.
 */
export async function bundleServices(logDir: string): Promise<string> {
  const out = join(logDir, "app");
  await promisify(execFile)(process.execPath, [join(ROOT, "scripts/build-services.mjs"), out], {
    timeout: READY_TIMEOUT_MS,
  });
  return out;
}

/**
 * As compose's `restart: on-failure` while starting: a process that exits before it is ready (a
 * dependency's start-up health check timing out on a loaded machine) is started again, up to 3 times.
 */
export async function spawnService(s: Spawn, logDir: string, bundle: string): Promise<ServiceProcess> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await spawnOnce(s, logDir, bundle);
    } catch (err) {
      const exited = err instanceof BackendUnavailableError && err.details.exited === true;
      if (!exited || attempt >= START_ATTEMPTS) throw err;
    }
  }
}

/** Starts `node <bundle>/bin/<service>.js`; resolves at its ready log line (with url). */
async function spawnOnce(s: Spawn, logDir: string, bundle: string): Promise<ServiceProcess> {
  const log: WriteStream = createWriteStream(join(logDir, `${s.name}.log`), { flags: "a" });
  const child: ChildProcess = spawn(
    process.execPath,
    ["--enable-source-maps", join(bundle, "bin", `${s.service}.js`)],
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
      rej(
        new BackendUnavailableError(`${s.name} exited (${code}) before it was ready (log ${logDir})`, {
          exited: true,
          code,
        }),
      );
    });
  });
  const stop = () => terminate(child, exited);
  const url = await ready.catch(async (err) => {
    await stop();
    throw err;
  });
  return { name: s.name, pid: child.pid!, url, exited, kill: (sig = "SIGKILL") => child.kill(sig), stop };
}
