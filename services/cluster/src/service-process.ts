// One service as a child process: the one launcher of the processes topology, the fault suites and the
// tests that kill a service. It runs the services' esbuild bundle (as the image does) or, without one,
// the TypeScript source through tsx; the service is ready at its JSON ready log line, which names its url.
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { createWriteStream } from "node:fs";
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
/** How much of a failed start's stderr its error carries. */
const STDERR_TAIL_CHARS = 2000;

/** One service running as a child process. */
export interface ServiceProcess {
  readonly name: string;
  readonly pid: number;
  /** Its HTTP address (/metrics, /healthz, and the API for a region node). */
  readonly url: string;
  /** The JSON log line that said it is ready. */
  readonly readyLine: Readonly<Record<string, unknown>>;
  /** The OS process (its output streams; `signalCode` once a signal ended it). */
  readonly child: ChildProcess;
  readonly exited: Promise<number | null>;
  kill(signal?: NodeJS.Signals): void;
  /** SIGTERM, SIGKILL after a grace period; resolves once it exited. */
  stop(): Promise<void>;
}

export interface Spawn {
  /** Names its log file and its errors (`region-node-us-east`). */
  name: string;
  /** The service's folder under services/ (its bundle entry point `bin/<service>.js`). */
  service: string;
  env: Record<string, string>;
  readyMsg: string;
}

export interface LaunchOptions {
  /** The folder bundleServices made: runs `<bundle>/bin/<service>.js`; default the source through tsx. */
  bundle?: string;
  /** Where `<name>.log` (stdout and stderr) goes; default nowhere (a failed start's error has stderr's tail). */
  logDir?: string;
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
export async function spawnService(s: Spawn, o: LaunchOptions = {}): Promise<ServiceProcess> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await spawnOnce(s, o);
    } catch (err) {
      const exited = err instanceof BackendUnavailableError && err.details.exited === true;
      if (!exited || attempt >= START_ATTEMPTS) throw err;
    }
  }
}

function entryArgs(service: string, bundle: string | undefined): string[] {
  return bundle
    ? ["--enable-source-maps", join(bundle, "bin", `${service}.js`)]
    : ["--import", "tsx", join("services", service, "src", "main.ts")];
}

async function spawnOnce(s: Spawn, o: LaunchOptions): Promise<ServiceProcess> {
  const child = spawn(process.execPath, entryArgs(s.service, o.bundle), {
    cwd: ROOT,
    // Readiness is an info line: the level is info unless the spawn says otherwise.
    env: {
      ...process.env,
      MERIDIAN_HOST: "127.0.0.1",
      MERIDIAN_PORT: "0",
      MERIDIAN_LOG_LEVEL: "info",
      ...s.env,
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const exited = new Promise<number | null>((res) => child.once("exit", (code) => res(code)));
  const log = o.logDir ? createWriteStream(join(o.logDir, `${s.name}.log`), { flags: "a" }) : undefined;
  // 'close', not 'exit': the child's stdout/stderr can still deliver lines after it exited.
  child.once("close", () => log?.end());
  let stderrTail = "";
  child.stderr!.on("data", (d: Buffer) => {
    log?.write(d);
    stderrTail = (stderrTail + d.toString()).slice(-STDERR_TAIL_CHARS);
  });
  const where = () => (o.logDir ? ` (log ${o.logDir})` : `: ${stderrTail}`);
  const ready = new Promise<Record<string, unknown>>((res, rej) => {
    const timer = setTimeout(
      () => rej(new BackendUnavailableError(`${s.name} not ready in ${READY_TIMEOUT_MS} ms${where()}`)),
      READY_TIMEOUT_MS,
    );
    createInterface({ input: child.stdout! }).on("line", (line) => {
      log?.write(`${line}\n`);
      if (!line.includes(s.readyMsg)) return;
      try {
        const json = JSON.parse(line) as Record<string, unknown>;
        if (json.msg === s.readyMsg && typeof json.url === "string") {
          clearTimeout(timer);
          res(json);
        }
      } catch {
        // not a JSON log line
      }
    });
    void exited.then((code) => {
      clearTimeout(timer);
      rej(
        new BackendUnavailableError(`${s.name} exited (${code}) before it was ready${where()}`, {
          exited: true,
          code,
        }),
      );
    });
  });
  const stop = () => terminate(child, exited);
  const readyLine = await ready.catch(async (err) => {
    await stop();
    throw err;
  });
  return {
    name: s.name,
    pid: child.pid!,
    url: readyLine.url as string,
    readyLine,
    child,
    exited,
    kill: (sig = "SIGKILL") => child.kill(sig),
    stop,
  };
}

/** A service a test can SIGKILL, freeze (SIGSTOP) and thaw, and start again with the same spawn. */
export class RestartableService {
  private process: ServiceProcess | undefined;

  constructor(
    private readonly spawn: Spawn,
    private readonly launch: LaunchOptions = {},
  ) {}

  /** The running process; undefined before start(). */
  get current(): ServiceProcess | undefined {
    return this.process;
  }

  async start(): Promise<ServiceProcess> {
    this.process = await spawnService(this.spawn, this.launch);
    return this.process;
  }

  /** SIGKILL; resolves once the process is gone. */
  async kill(): Promise<void> {
    const p = this.process;
    if (!p || p.child.exitCode !== null || p.child.signalCode !== null) return;
    p.kill("SIGKILL");
    await p.exited;
  }

  freeze(): void {
    this.process?.kill("SIGSTOP");
  }

  thaw(): void {
    this.process?.kill("SIGCONT");
  }

  async stop(): Promise<void> {
    this.thaw();
    await this.process?.stop();
  }
}
