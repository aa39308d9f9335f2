// vitest globalSetup of the `integration` project: loads the addresses written by infra/up.sh and
// checks that every server answers before any test runs, so a missing server is one clear message
// instead of a hundred timeouts.
import { existsSync, readFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { Redis } from "ioredis";
import { Kafka, logLevel } from "kafkajs";
import pg from "pg";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const stateEnvFile = () => resolve(process.env.MERIDIAN_INFRA_STATE ?? resolve(ROOT, "infra/.state"), "env");
const PROBE_TIMEOUT_MS = 10_000;

/** Parses `export NAME='value'` lines; variables already set in the environment win. */
export function loadStateEnv(file: string, env: NodeJS.ProcessEnv = process.env): string[] {
  if (!existsSync(file)) return [];
  const loaded: string[] = [];
  for (const line of readFileSync(file, "utf8").split("\n")) {
    const m = /^export ([A-Z0-9_]+)='([^']*)'$/.exec(line.trim());
    if (!m) continue;
    const [, name, value] = m as unknown as [string, string, string];
    if (env[name] === undefined || env[name] === "") {
      env[name] = value;
      loaded.push(name);
    }
  }
  return loaded;
}

function withTimeout<T>(what: string, p: Promise<T>): Promise<T> {
  return Promise.race([
    p,
    new Promise<T>((_, reject) =>
      setTimeout(
        () => reject(new Error(`${what}: no answer within ${PROBE_TIMEOUT_MS} ms`)),
        PROBE_TIMEOUT_MS,
      ),
    ),
  ]);
}

async function checkKafka(brokers: string): Promise<void> {
  const kafka = new Kafka({
    clientId: "meridian-global-setup",
    brokers: brokers.split(",").map((b) => b.trim()),
    logLevel: logLevel.NOTHING,
    connectionTimeout: 3000,
    retry: { retries: 2 },
  });
  const admin = kafka.admin();
  try {
    await admin.connect();
    await admin.describeCluster();
  } finally {
    await admin.disconnect().catch(() => {});
  }
}

async function checkRedis(url: string): Promise<void> {
  const redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
  redis.on("error", () => {});
  try {
    await redis.connect();
    const pong = await redis.ping();
    if (pong !== "PONG") throw new Error(`PING answered ${pong}`);
  } finally {
    redis.disconnect();
  }
}

async function checkPg(url: string): Promise<void> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5000 });
  client.on("error", () => {});
  try {
    await client.connect();
    await client.query("select 1");
  } finally {
    await client.end().catch(() => {});
  }
}

async function checkRegistry(url: string): Promise<void> {
  const res = await fetch(`${url.replace(/\/$/, "")}/subjects`, { signal: AbortSignal.timeout(5000) });
  if (res.status !== 200) throw new Error(`GET /subjects answered ${res.status}`);
}

export default async function setup(): Promise<void> {
  const registryExplicit = Boolean(process.env.MERIDIAN_SCHEMA_REGISTRY_URL);
  const STATE_ENV = stateEnvFile();
  const loaded = loadStateEnv(STATE_ENV);
  // Same defaults as configFromEnv() in @meridian/core.
  const kafka = process.env.MERIDIAN_KAFKA_BROKERS || "127.0.0.1:9092";
  const redis = process.env.MERIDIAN_REDIS_URL || "redis://127.0.0.1:6379";
  const pgUrl = process.env.MERIDIAN_PG_URL || "postgres://postgres@127.0.0.1:5432/postgres";
  const registry = process.env.MERIDIAN_SCHEMA_REGISTRY_URL || "http://127.0.0.1:8081";
  const registryRequired = registryExplicit || loaded.includes("MERIDIAN_SCHEMA_REGISTRY_URL");

  const checks: Array<[string, string, () => Promise<void>, boolean]> = [
    ["MERIDIAN_KAFKA_BROKERS", kafka, () => checkKafka(kafka), true],
    ["MERIDIAN_REDIS_URL", redis, () => checkRedis(redis), true],
    ["MERIDIAN_PG_URL", pgUrl, () => checkPg(pgUrl), true],
    ["MERIDIAN_SCHEMA_REGISTRY_URL", registry, () => checkRegistry(registry), registryRequired],
  ];
  const results = await Promise.all(
    checks.map(async ([name, address, check, required]) => {
      try {
        await withTimeout(`${name}=${address}`, check());
        return null;
      } catch (err) {
        const reason = err instanceof Error ? err.message : String(err);
        return { name, address, reason, required };
      }
    }),
  );
  const failures = results.filter((r) => r !== null);
  for (const f of failures.filter((f) => !f.required)) {
    console.warn(
      `[global-setup] warning: ${f.name}=${f.address} unreachable (${f.reason}); tests needing it will fail`,
    );
  }
  const fatal = failures.filter((f) => f.required);
  if (fatal.length > 0) {
    const lines = fatal.map((f) => `  ${f.name}=${f.address}: ${f.reason}`);
    throw new Error(
      `Integration servers unreachable:\n${lines.join("\n")}\n` +
        `Start them with \`pnpm infra:up\` (writes ${STATE_ENV}), or point the MERIDIAN_* variables at your own servers.`,
    );
  }
  const source = loaded.length > 0 ? `${STATE_ENV} (${loaded.join(", ")})` : "environment/defaults";
  console.log(
    `[global-setup] servers answer: kafka ${kafka}, redis ${redis}, pg ${pgUrl}, registry ${registry}; from ${source}`,
  );
}
