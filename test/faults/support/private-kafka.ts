// The broker-kill scenario's broker: a private one-broker KRaft Kafka started by test/support's
// startPrivateKafka (infra/kafka/start.sh in a temp state folder), plus what that helper does not do —
// kill -9 and a restart WITHOUT formatting, re-running the very command line start.sh used (read from
// /proc), so the broker comes back with its log: topics, offsets and committed consumer positions.
import { spawn } from "node:child_process";
import { appendFileSync, openSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { Kafka, logLevel } from "kafkajs";
import { type PrivateKafka, startPrivateKafka } from "../../support/private-kafka.js";

const READY_TIMEOUT_MS = 120_000;

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

export class RestartableKafka {
  private restarted = false;

  private constructor(
    private readonly server: PrivateKafka,
    private readonly command: string[],
    private pid: number,
  ) {}

  static async start(): Promise<RestartableKafka> {
    const server = await startPrivateKafka();
    const pid = Number(readFileSync(join(server.stateDir, "kafka", "pid"), "utf8").trim());
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
    await this.waitReady();
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
