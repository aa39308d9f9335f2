// Private Kafka clusters and MirrorMaker 2 for tests, started by the project's own infra scripts
// (infra/kafka/start.sh, infra/mirrormaker/start.sh) with their state in a temp folder, on free ports,
// with small heaps. Never touches the shared broker.
import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { freePort } from "@meridian/cluster";

const ROOT = resolve(fileURLToPath(new URL("../..", import.meta.url)));
const run = promisify(execFile);

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

/** Kills the process group the infra script started (its pid file holds the group leader). */
function killGroup(pidFile: string, stateDir: string): Promise<void> {
  try {
    process.kill(-Number(readFileSync(pidFile, "utf8").trim()), "SIGKILL");
  } catch {
    // already gone
  }
  rmSync(stateDir, { recursive: true, force: true });
  return Promise.resolve();
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
      server: { stateDir, rssMiB: () => rssOf(pidFile), stop: () => killGroup(pidFile, stateDir) },
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
