// A private KRaft broker (Kafka 4, jars of infra/kafka) with a SASL_SSL listener: SCRAM-SHA-512 user
// bootstrapped at format time (`--add-scram`), TLS with a self-signed certificate made by the JDK's
// keytool into a temp folder at test time (never committed). A PLAINTEXT listener stays for the broker's
// own inter-broker traffic. Killed (process group) and its folder removed by stop().
import { execFile, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { freePort } from "@meridian/cluster";
import { kafkaClusterId, waitForKafka } from "./private-kafka.js";
import { killGroupAndRemove } from "./process-group.js";

const run = promisify(execFile);
const ROOT = resolve(fileURLToPath(new URL("../..", import.meta.url)));

export interface SecureKafka {
  /** bootstrap of the SASL_SSL listener */
  readonly brokers: string;
  readonly username: string;
  readonly password: string;
  /** PEM of the broker's self-signed certificate (the client's trusted CA). */
  readonly caFile: string;
  stop(): Promise<void>;
}

/** The broker jars, resolved by the infra scripts' own helper (once per pom version, from the Maven cache). */
async function libsDir(dir: string): Promise<string> {
  const libs = join(ROOT, "infra/kafka/libs");
  const pom = join(ROOT, "infra/kafka/pom.xml");
  await run(
    "bash",
    ["-c", `source infra/lib/common.sh && resolve_jars "$1" "$2" "$3"`, "-", pom, libs, join(dir, "mvn.log")],
    {
      cwd: ROOT,
      timeout: 300_000,
    },
  );
  return libs;
}

async function makeKeystore(dir: string, storePass: string): Promise<{ caFile: string }> {
  const keystore = join(dir, "broker.p12");
  const caFile = join(dir, "ca.pem");
  const common = [
    "-J-XX:TieredStopAtLevel=1",
    "-keystore",
    keystore,
    "-storetype",
    "PKCS12",
    "-storepass",
    storePass,
  ];
  await run("keytool", [
    ...["-genkeypair", "-alias", "broker", "-keyalg", "EC", "-groupname", "secp256r1", "-validity", "2"],
    ...["-dname", "CN=127.0.0.1", "-ext", "SAN=IP:127.0.0.1,DNS:localhost", "-keypass", storePass],
    ...common,
  ]);
  await run("keytool", ["-exportcert", "-rfc", "-alias", "broker", "-file", caFile, ...common]);
  return { caFile };
}

function serverProperties(o: {
  dir: string;
  plain: number;
  secure: number;
  controller: number;
  keystore: string;
  storePass: string;
}): string {
  return `process.roles=broker,controller
node.id=1
controller.quorum.bootstrap.servers=127.0.0.1:${o.controller}
listeners=PLAINTEXT://127.0.0.1:${o.plain},SASL_SSL://127.0.0.1:${o.secure},CONTROLLER://127.0.0.1:${o.controller}
advertised.listeners=PLAINTEXT://127.0.0.1:${o.plain},SASL_SSL://127.0.0.1:${o.secure}
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT,SASL_SSL:SASL_SSL
sasl.enabled.mechanisms=SCRAM-SHA-512
listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;
ssl.keystore.type=PKCS12
ssl.keystore.location=${o.keystore}
ssl.keystore.password=${o.storePass}
ssl.key.password=${o.storePass}
log.dirs=${o.dir}/data
num.partitions=1
default.replication.factor=1
min.insync.replicas=1
offsets.topic.replication.factor=1
offsets.topic.num.partitions=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
transaction.state.log.num.partitions=1
group.initial.rebalance.delay.ms=0
auto.create.topics.enable=true
`;
}

export async function startSecureKafka(heap = "256m"): Promise<SecureKafka> {
  const dir = mkdtempSync(join(tmpdir(), "meridian-sasl-kafka-"));
  const username = "meridian";
  const password = randomBytes(18).toString("base64url");
  const storePass = randomBytes(12).toString("hex"); // hex: a leading "-" would read as a keytool option
  const [plain, secure, controller] = [await freePort(), await freePort(), await freePort()];
  // C1 only: these JVMs start on a loaded machine and never run long enough to profit from C2.
  const java = [
    "-Xms64m",
    `-Xmx${heap}`,
    "-XX:+UseSerialGC",
    "-XX:TieredStopAtLevel=1",
    "-Djava.awt.headless=true",
  ];
  let pid: number | undefined;
  const stop = () => killGroupAndRemove(pid, dir);
  try {
    const libs = `${await libsDir(dir)}/*`;
    const keystore = join(dir, "broker.p12");
    const props = join(dir, "server.properties");
    writeFileSync(props, serverProperties({ dir, plain, secure, controller, keystore, storePass }));
    const id = kafkaClusterId();
    // The certificate and the storage format (with the SCRAM user) do not depend on each other.
    const [{ caFile }] = await Promise.all([
      makeKeystore(dir, storePass),
      run("java", [
        ...java,
        ...["-cp", libs, "kafka.tools.StorageTool", "format", "--standalone", "-t", id, "-c", props],
        ...["--add-scram", `SCRAM-SHA-512=[name=${username},password=${password}]`],
      ]),
    ]);
    const child = spawn("java", [...java, "-cp", libs, "kafka.Kafka", props], {
      stdio: "ignore",
      detached: true,
    });
    child.on("error", () => {});
    pid = child.pid;
    process.once("exit", () => void stop());
    await waitForKafka(`127.0.0.1:${plain}`, { timeoutMs: 120_000 });
    return { brokers: `127.0.0.1:${secure}`, username, password, caFile, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}
