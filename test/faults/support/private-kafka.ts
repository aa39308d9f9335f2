// A private one-broker KRaft Kafka for the broker-kill scenario (the shared broker serves everyone else).
// infra/kafka/start.sh formats and starts it, pointed at a temporary state dir and free ports; a restart
// after kill -9 re-runs the very command line start.sh used (read from /proc), WITHOUT formatting, so
// the broker comes back with its log: topics, offsets and committed consumer positions.
import { execFile, spawn } from "node:child_process";
import { appendFileSync, mkdtempSync, openSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import { Kafka, logLevel } from "kafkajs";
import { ROOT } from "../../pipeline/helpers.js";
import { freePort } from "./redis-server.js";

const READY_TIMEOUT_MS = 120_000;

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

export class PrivateKafka {
  private restarted = false;

  private constructor(
    private readonly stateDir: string,
    readonly brokers: string,
    private readonly command: string[],
    private pid: number,
  ) {}

  static async start(): Promise<PrivateKafka> {
    const stateDir = mkdtempSync(join(tmpdir(), "meridian-nemesis-kafka-"));
    const env = {
      ...process.env,
      MERIDIAN_INFRA_STATE: stateDir,
      MERIDIAN_KAFKA_PORT: String(await freePort()),
      MERIDIAN_KAFKA_CONTROLLER_PORT: String(await freePort()),
    };
    await promisify(execFile)("bash", [resolve(ROOT, "infra/kafka/start.sh")], {
      env,
      timeout: READY_TIMEOUT_MS + 30_000,
    });
    const kdir = join(stateDir, "kafka");
    const brokers = readFileSync(join(kdir, "brokers"), "utf8").trim();
    const pid = Number(readFileSync(join(kdir, "pid"), "utf8").trim());
    const command = readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").filter(Boolean);
    const kafka = new PrivateKafka(stateDir, brokers, command, pid);
    process.once("exit", () => kafka.signal("SIGKILL"));
    return kafka;
  }

  /** kill -9 of the broker's process group (start.sh starts it in its own session). */
  async kill(): Promise<void> {
    this.signal("SIGKILL");
    const deadline = Date.now() + 10_000;
    while (alive(this.pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  }

  /** Starts the same broker again on its log dir; resolves once it answers metadata. */
  async restart(): Promise<void> {
    const kdir = join(this.stateDir, "kafka");
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
    await this.waitReady();
  }

  async stop(): Promise<void> {
    await this.kill();
    rmSync(this.stateDir, { recursive: true, force: true });
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

  private async waitReady(): Promise<void> {
    const kafka = new Kafka({
      clientId: "nemesis-probe",
      brokers: [this.brokers],
      logLevel: logLevel.NOTHING,
      connectionTimeout: 2000,
      retry: { retries: 0 },
    });
    const deadline = Date.now() + READY_TIMEOUT_MS;
    for (;;) {
      const admin = kafka.admin();
      try {
        await admin.connect();
        await admin.describeCluster();
        return;
      } catch (err) {
        if (!alive(this.pid)) throw new Error(`private broker exited while restarting: ${String(err)}`);
        if (Date.now() > deadline) throw new Error(`private broker not ready in ${READY_TIMEOUT_MS} ms`);
      } finally {
        await admin.disconnect().catch(() => undefined);
      }
      await new Promise((r) => setTimeout(r, 250));
    }
  }
}
