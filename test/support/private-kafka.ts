// Private Kafka clusters and MirrorMaker 2 for tests, started by the project's own infra scripts
// (infra/kafka/start.sh, infra/mirrormaker/start.sh) with their state in a temp folder, on free ports,
// with small heaps; a broker the broker-kill scenario can kill -9 and restart on its log. Never touches
// the shared broker.
import { execFile, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { appendFileSync, mkdtempSync, openSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { freePort } from "@meridian/cluster";
import { Kafka, logLevel } from "kafkajs";
import { killGroupAndRemove } from "./process-group.js";

const ROOT = resolve(fileURLToPath(new URL("../..", import.meta.url)));
const run = promisify(execFile);

/** A new KRaft cluster id; never one starting with "-", which the storage tool would read as an option. */
export function kafkaClusterId(): string {
  let id: string;
  do id = randomBytes(16).toString("base64url");
  while (id.startsWith("-"));
  return id;
}

export interface PrivateServer {
  /** The state folder (pid, config, log). */
  readonly stateDir: string;
  /** Resident memory of the JVM now, in MiB (from /proc). */
  rssMiB(): number;
  /** SIGKILL to the JVM's process group and the state folder removed: a throwaway server needs no clean stop. */
  stop(): Promise<void>;
}

export interface PrivateKafka extends PrivateServer {
  readonly brokers: string;
}

function rssOf(pidFile: string): number {
  const pid = readFileSync(pidFile, "utf8").trim();
  const kb = /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1];
  return Math.round(Number(kb ?? 0) / 1024);
}

/** The pid in an infra script's pid file: the leader of the process group it started. */
function pidOf(pidFile: string): number | undefined {
  try {
    return Number(readFileSync(pidFile, "utf8").trim());
  } catch {
    return undefined;
  }
}

async function script(path: string, env: Record<string, string>, timeoutMs: number): Promise<string> {
  try {
    const { stdout } = await run("bash", [join(ROOT, path)], {
      env: { ...process.env, ...env },
      timeout: timeoutMs,
      maxBuffer: 16 * 1024 * 1024,
    });
    return stdout.trim();
  } catch (e) {
    const err = e as { stderr?: string; message: string };
    throw new Error(`${path} failed: ${err.stderr?.slice(-3000) ?? err.message}`);
  }
}

/**
 * Runs infra/<component>/start.sh with its state in a fresh temp folder; on failure runs stop.sh and
 * removes the folder. Resolves with the script's last stdout line and the server handle.
 */
async function startComponent(
  component: "kafka" | "mirrormaker",
  prefix: string,
  env: Record<string, string>,
): Promise<{ last: string; server: PrivateServer }> {
  const stateDir = mkdtempSync(join(tmpdir(), prefix));
  const full = { ...env, MERIDIAN_INFRA_STATE: stateDir };
  try {
    const out = await script(`infra/${component}/start.sh`, full, 240_000);
    const pidFile = join(stateDir, component, "pid");
    return {
      last: out.split("\n").pop() ?? "",
      server: {
        stateDir,
        rssMiB: () => rssOf(pidFile),
        stop: () => killGroupAndRemove(pidOf(pidFile), stateDir),
      },
    };
  } catch (e) {
    await script(`infra/${component}/stop.sh`, full, 60_000).catch(() => undefined);
    rmSync(stateDir, { recursive: true, force: true });
    throw e;
  }
}

/** One KRaft broker+controller (Kafka 4) on free ports; `heap` is its max JVM heap. */
export async function startPrivateKafka(heap = "256m"): Promise<PrivateKafka> {
  const { last, server } = await startComponent("kafka", "meridian-kafka-", {
    MERIDIAN_KAFKA_HEAP: heap,
    MERIDIAN_KAFKA_PORT: String(await freePort()),
    MERIDIAN_KAFKA_CONTROLLER_PORT: String(await freePort()),
  });
  return { ...server, brokers: last };
}

/** MirrorMaker 2 between the given clusters (region → bootstrap), replicating the namespace's updates topics. */
export async function startMirrorMaker(
  clusters: Record<string, string>,
  namespace: string,
  heap = "256m",
): Promise<PrivateServer> {
  const clusterList = Object.entries(clusters).map(([region, brokers]) => `${region}=${brokers}`);
  const { server } = await startComponent("mirrormaker", "meridian-mm2-", {
    MERIDIAN_NAMESPACE: namespace,
    MERIDIAN_MM2_HEAP: heap,
    MERIDIAN_MM2_CLUSTERS: clusterList.join(","),
  });
  return server;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Resolves once the broker at `bootstrap` answers metadata; throws after `timeoutMs` or once `alive` says no. */
export async function waitForKafka(
  bootstrap: string,
  o: { timeoutMs: number; alive?: () => boolean },
): Promise<void> {
  const kafka = new Kafka({
    clientId: "private-kafka-probe",
    brokers: [bootstrap],
    logLevel: logLevel.NOTHING,
    connectionTimeout: 2000,
    retry: { retries: 0 },
  });
  const deadline = Date.now() + o.timeoutMs;
  for (;;) {
    const admin = kafka.admin();
    try {
      await admin.connect();
      await admin.describeCluster();
      return;
    } catch (err) {
      if (o.alive && !o.alive()) throw new Error(`broker ${bootstrap} exited while starting: ${String(err)}`);
      if (Date.now() > deadline) throw new Error(`broker ${bootstrap} not ready in ${o.timeoutMs} ms`);
    } finally {
      await admin.disconnect().catch(() => undefined);
    }
    await new Promise((r) => setTimeout(r, 250));
  }
}

/**
 * A private broker the broker-kill scenario can kill -9 and restart WITHOUT formatting, re-running the very
 * command line start.sh used (read from /proc), so it comes back with its log: topics, offsets and
 * committed consumer positions.
 */
export class RestartableKafka {
  private restarted = false;

  private constructor(
    private readonly server: PrivateKafka,
    private readonly command: string[],
    private pid: number,
  ) {}

  static async start(): Promise<RestartableKafka> {
    const server = await startPrivateKafka();
    const pid = pidOf(join(server.stateDir, "kafka", "pid"))!;
    const command = readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").filter(Boolean);
    const kafka = new RestartableKafka(server, command, pid);
    process.once("exit", () => kafka.signal("SIGKILL"));
    return kafka;
  }

  get brokers(): string {
    return this.server.brokers;
  }

  /** kill -9 of the broker's process group (start.sh starts it in its own session). */
  async kill(): Promise<void> {
    this.signal("SIGKILL");
    const deadline = Date.now() + 10_000;
    while (alive(this.pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  }

  /** Starts the same broker again on its log dir; resolves once it answers metadata. */
  async restart(): Promise<void> {
    const kdir = join(this.server.stateDir, "kafka");
    if (!this.restarted) {
      // The restarted controller refuses the broker's new registration until the killed one's session
      // expires (default 9 s); a short session keeps the scenario short.
      appendFileSync(
        join(kdir, "server.properties"),
        "broker.session.timeout.ms=3000\nbroker.heartbeat.interval.ms=1000\n",
      );
      this.restarted = true;
    }
    const log = openSync(join(kdir, "kafka.log"), "a");
    const child = spawn(this.command[0]!, this.command.slice(1), {
      detached: true,
      stdio: ["ignore", log, log],
    });
    child.unref();
    this.pid = child.pid!;
    await waitForKafka(this.brokers, { timeoutMs: 120_000, alive: () => alive(this.pid) });
  }

  async stop(): Promise<void> {
    await this.kill();
    await this.server.stop();
  }

  private signal(sig: NodeJS.Signals): void {
    try {
      process.kill(-this.pid, sig);
    } catch {
      try {
        process.kill(this.pid, sig);
      } catch {
        // already gone
      }
    }
  }
}
