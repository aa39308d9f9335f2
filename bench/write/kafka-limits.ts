// Kafka's limits on this broker: Apache Kafka's own ProducerPerformance tool (the Java client, acks=all,
// same record size) and a bare kafkajs producer sending arrays (kafkajs batches only what one send holds),
// with and without GZIP. The kafka instance comes from @meridian/bus' createKafka, so its GZIP is the
// synchronous codec Meridian installs (packages/bus/src/gzip-codec.ts), not kafkajs' asynchronous one.
import { execFile } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import type { Kafka } from "@meridian/bus";
import { CompressionTypes } from "kafkajs";
import { type Row, runFor } from "./harness.js";

const run = promisify(execFile);
const ROOT = path.resolve(import.meta.dirname, "../..");

/** The broker's Kafka version, from the pom infra/kafka/start.sh resolves the broker's jars with. */
function kafkaVersion(): string {
  const pom = readFileSync(path.join(ROOT, "infra/kafka/pom.xml"), "utf8");
  return /<kafka\.version>([^<]+)</.exec(pom)?.[1] ?? "4.4.0";
}

/**
 * The jars of org.apache.kafka:kafka-tools (the broker's jars do not include the tools), resolved once by
 * Maven into ~/.cache/meridian. Under --quick a missing cache is not resolved (it takes a minute or more).
 */
async function toolsClasspath(resolve: boolean): Promise<string | null> {
  const version = kafkaVersion();
  const dir = path.join(os.homedir(), ".cache/meridian", `kafka-tools-${version}`);
  if (existsSync(path.join(dir, ".complete"))) return `${dir}/*`;
  if (!resolve) return null;
  const work = path.join(os.tmpdir(), `meridian-kafka-tools-pom-${version}`);
  mkdirSync(work, { recursive: true });
  writeFileSync(
    path.join(work, "pom.xml"),
    `<project xmlns="http://maven.apache.org/POM/4.0.0"><modelVersion>4.0.0</modelVersion>
<groupId>dev.meridian.bench</groupId><artifactId>kafka-tools</artifactId><version>1</version><packaging>pom</packaging>
<dependencies><dependency><groupId>org.apache.kafka</groupId><artifactId>kafka-tools</artifactId>
<version>${version}</version></dependency></dependencies></project>`,
  );
  await run(
    "mvn",
    ["-q", "-B", "dependency:copy-dependencies", "-DincludeScope=runtime", `-DoutputDirectory=${dir}`],
    { cwd: work, timeout: 600_000 },
  );
  writeFileSync(path.join(dir, ".complete"), version);
  return `${dir}/*`;
}

export interface PerfToolRow {
  name: string;
  rps: number;
  p50ms: number;
  p99ms: number;
}

/** ProducerPerformance, acks=all, unthrottled; null (with the reason printed) when it cannot run. */
export async function kafkaPerfTool(
  brokers: string,
  topic: string,
  records: number,
  recordSize: number,
  resolveJars: boolean,
): Promise<PerfToolRow | null> {
  try {
    const cp = await toolsClasspath(resolveJars);
    if (!cp) {
      console.log(
        "Kafka ProducerPerformance skipped: kafka-tools jars not resolved yet (run `pnpm bench write`)",
      );
      return null;
    }
    const { stdout } = await run(
      "java",
      [
        "-Xmx256m",
        "-cp",
        cp,
        "org.apache.kafka.tools.ProducerPerformance",
        ...["--topic", topic, "--num-records", String(records), "--record-size", String(recordSize)],
        ...["--throughput", "-1", "--producer-props", `bootstrap.servers=${brokers}`, "acks=all"],
      ],
      { timeout: 120_000 },
    );
    // "N records sent, R records/sec (M MB/sec), A ms avg latency, X ms max latency, P50 ms 50th, ..."
    const last = stdout.trim().split("\n").at(-1)!;
    const rps = Number(/([\d.]+) records\/sec/.exec(last)?.[1]);
    const p50ms = Number(/(\d+) ms 50th/.exec(last)?.[1]);
    const p99ms = Number(/(\d+) ms 99th/.exec(last)?.[1]);
    console.log(`Kafka ProducerPerformance: ${last}`);
    return {
      name: `Kafka ProducerPerformance (Java client, acks=all, ${recordSize} B records)`,
      rps,
      p50ms,
      p99ms,
    };
  } catch (err) {
    console.log(`Kafka ProducerPerformance unavailable: ${(err as Error).message.split("\n")[0]}`);
    return null;
  }
}

/** A bare kafkajs idempotent producer, acks=all, `batch` records of `recordSize` bytes per send. */
export async function bareKafkajs(
  kafka: Kafka,
  topic: string,
  recordSize: number,
  batch: number,
  gzip: boolean,
  ms: number,
): Promise<Row> {
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  const value = Buffer.alloc(recordSize, 7);
  try {
    const name = `bare kafkajs producer, ${batch} records per send${gzip ? ", GZIP" : ""}`;
    return await runFor(name, 1, ms, batch, (i) =>
      producer.send({
        topic,
        acks: -1,
        compression: gzip ? CompressionTypes.GZIP : CompressionTypes.None,
        messages: Array.from({ length: batch }, (_, j) => ({ key: `k${(i * batch + j) % 10_000}`, value })),
      }),
    );
  } finally {
    await producer.disconnect();
  }
}
