// The processes topology: the same pipeline as startCluster, but every service is its own OS process
// (services/<name>/src/main.ts) and every region has its own redis-server, so killing a region's Redis,
// node or consumer is a real, separate failure. Kafka, PostgreSQL and the schema registry are shared.
import { type ChildProcess, spawn } from "node:child_process";
import { createWriteStream, mkdtempSync, type WriteStream } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { createKafka } from "@meridian/bus";
import { BackendUnavailableError, configFromEnv, type MeridianConfig } from "@meridian/core";
import { schemaForNamespace } from "@meridian/region-node";
import { bearerHeaders, ensureTopicsFor, type RegionLayout, resolveLayout } from "@meridian/service-kit";
import { createPgPool, createRedis, type PgPool, type Redis } from "@meridian/store";
import { withAuthToken } from "./auth-token.js";
import { terminate } from "./child.js";
import { stateFingerprint } from "./cluster.js";
import { type RedisServerProcess, startRedisServer } from "./redis-server.js";

const ROOT = resolve(fileURLToPath(new URL("../../..", import.meta.url)));
const READY_TIMEOUT_MS = 60_000;

export interface ProcessClusterOptions {
  regions?: readonly string[];
  namespace?: string;
  /** Kafka, PostgreSQL and schema registry (default configFromEnv()); Redis is one private server per region. */
  config?: MeridianConfig;
  marketData?: false | { symbols?: number; ticksPerSecond?: number; homeRegion?: string };
  /** `critical` through PostgreSQL + every region's Redis (default true). */
  critical?: boolean;
  /** WAN one-way delay the replicator adds: MERIDIAN_WAN_LATENCY_MS (a number or a JSON matrix). */
  latencyMs?: number | string;
  /** Where each process's log goes (`<name>.log`; default a temp folder). */
  logDir?: string;
  redisServerBin?: string;
}

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

export interface ProcessRegion {
  readonly region: string;
  /** The region node's base URL. */
  readonly url: string;
  readonly node: ServiceProcess;
  /** Undefined while stopped by stopConsumer(). */
  consumer: ServiceProcess | undefined;
  readonly redisServer: RedisServerProcess;
  /** Client of the region's Redis DB (inspection; closed by stop()). */
  readonly redis: Redis;
}

export interface ProcessCluster {
  readonly layout: RegionLayout;
  readonly namespace: string | undefined;
  readonly regions: Record<string, ProcessRegion>;
  readonly replicator: ServiceProcess;
  readonly marketData: ServiceProcess | undefined;
  readonly logDir: string;
  /** With `critical` on: a PostgreSQL pool on the critical table's schema (inspection, the monitor's probes). */
  readonly critical: { schema: string | undefined; pool: PgPool } | undefined;
  /** The MERIDIAN_REDIS_URLS value every process got (region=url,…). */
  readonly redisUrls: string;
  /** Authorization header for the services' write and admin routes (the cluster's bearer token). */
  readonly authHeaders: Record<string, string>;
  compareStates(
    keys: readonly string[],
    among?: readonly string[],
  ): Promise<{ converged: boolean; diverged: string[] }>;
  waitForConvergence(keys: readonly string[], timeoutMs?: number): Promise<number>;
  stopConsumer(region: string): Promise<void>;
  startConsumer(region: string): Promise<void>;
  stop(): Promise<void>;
}

interface Spawn {
  name: string;
  service: string;
  env: Record<string, string>;
  readyMsg: string;
}

/** Starts `node --import tsx services/<service>/src/main.ts`; resolves at its ready log line (with url). */
async function spawnService(s: Spawn, logDir: string): Promise<ServiceProcess> {
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

export async function startProcessCluster(opts: ProcessClusterOptions = {}): Promise<ProcessCluster> {
  const config = withAuthToken(opts.config ?? configFromEnv());
  const layout = resolveLayout(opts);
  const { regions, namespace } = layout;
  const logDir = opts.logDir ?? mkdtempSync(join(tmpdir(), "meridian-processes-"));
  const started: { stop(): Promise<void> }[] = [];
  const clients: Redis[] = [];
  const stopAll = async () => {
    for (const c of clients) c.disconnect();
    await Promise.allSettled(started.reverse().map((p) => p.stop()));
  };

  try {
    const kafka = createKafka(config, `processes-${namespace ?? "default"}`);
    await ensureTopicsFor(kafka, layout);
    const servers = await Promise.all(regions.map(() => startRedisServer(opts.redisServerBin)));
    started.push(...servers);
    const redisUrls = regions.map((r, i) => `${r}=${servers[i]!.url}`).join(",");
    const common: Record<string, string> = {
      MERIDIAN_KAFKA_BROKERS: config.kafkaBrokers.join(","),
      MERIDIAN_PG_URL: config.pgUrl,
      MERIDIAN_SCHEMA_REGISTRY_URL: config.schemaRegistryUrl,
      MERIDIAN_REGIONS: regions.join(","),
      MERIDIAN_REDIS_URLS: redisUrls,
      // Handed to the children only through their environment, never logged.
      MERIDIAN_AUTH_TOKEN: config.httpAuth!.token!.reveal(),
      ...registryTokenEnv(config),
      ...(namespace ? { MERIDIAN_NAMESPACE: namespace } : {}),
    };
    const market = opts.marketData === false ? undefined : (opts.marketData ?? {});
    const home = market?.homeRegion ?? regions[0]!;
    const critical = opts.critical ?? true;

    const nodeEnv = (region: string): Record<string, string> => ({
      ...common,
      MERIDIAN_REGION: region,
      MERIDIAN_REDIS_URL: servers[regions.indexOf(region)]!.url,
      // The schema holds the critical table and, critical or not, the writer incarnations.
      ...(namespace ? { MERIDIAN_PG_SCHEMA: schemaForNamespace(namespace) } : {}),
      ...(critical ? {} : { MERIDIAN_CRITICAL: "off" }),
      ...(market && region === home ? { MERIDIAN_INGEST_MARKET_DATA: "1" } : {}),
    });
    const consumerSpawn = (region: string): Spawn => ({
      name: `invalidation-consumer-${region}`,
      service: "invalidation-consumer",
      env: { ...common, MERIDIAN_REGION: region, MERIDIAN_REDIS_URL: servers[regions.indexOf(region)]!.url },
      readyMsg: "consumer ready",
    });

    // The first node creates the critical table; the others start once it exists.
    const nodeSpawn = (region: string): Spawn => ({
      name: `region-node-${region}`,
      service: "region-node",
      env: nodeEnv(region),
      readyMsg: "listening",
    });
    const first = await spawnService(nodeSpawn(regions[0]!), logDir);
    started.push(first);
    const rest = await Promise.all(regions.slice(1).map((r) => spawnService(nodeSpawn(r), logDir)));
    started.push(...rest);
    const nodes = [first, ...rest];
    const consumers = await Promise.all(regions.map((r) => spawnService(consumerSpawn(r), logDir)));
    started.push(...consumers);
    const replicator = await spawnService(
      {
        name: "replicator",
        service: "replicator",
        env: {
          ...common,
          ...(opts.latencyMs !== undefined ? { MERIDIAN_WAN_LATENCY_MS: String(opts.latencyMs) } : {}),
        },
        readyMsg: "listening",
      },
      logDir,
    );
    started.push(replicator);
    const marketData = market
      ? await spawnService(
          {
            name: "market-data-producer",
            service: "market-data-producer",
            env: {
              ...common,
              MERIDIAN_SYMBOLS: String(market.symbols ?? 20),
              MERIDIAN_TICKS_PER_SECOND: String(market.ticksPerSecond ?? 50),
            },
            readyMsg: "producing",
          },
          logDir,
        )
      : undefined;
    if (marketData) started.push(marketData);

    const handles: Record<string, ProcessRegion> = {};
    regions.forEach((region, i) => {
      const redis = createRedis(servers[i]!.url, { db: layout.redisDbs[region]! });
      redis.on("error", () => undefined); // a killed region server is a test's fault, not ours to log
      clients.push(redis);
      handles[region] = {
        region,
        url: nodes[i]!.url,
        node: nodes[i]!,
        consumer: consumers[i],
        redisServer: servers[i]!,
        redis,
      };
    });

    const schema = namespace ? schemaForNamespace(namespace) : undefined;
    const pool = critical
      ? createPgPool(config.pgUrl, { max: 4, ...(schema ? { searchPath: schema } : {}) })
      : undefined;
    if (pool) started.push({ stop: () => pool.end() });

    const compareStates = async (keys: readonly string[], among: readonly string[] = regions) => {
      const diverged: string[] = [];
      for (const key of keys) {
        const states = await Promise.all(
          among.map((r) => stateFingerprint(handles[r]!.redis, layout.keyPrefix, key)),
        );
        if (states.some((s) => s === null || s !== states[0])) diverged.push(key);
      }
      return { converged: diverged.length === 0, diverged };
    };

    return {
      layout,
      namespace,
      authHeaders: bearerHeaders(config.httpAuth?.token),
      regions: handles,
      replicator,
      marketData,
      logDir,
      critical: pool ? { schema, pool } : undefined,
      redisUrls,
      compareStates,
      async waitForConvergence(keys, timeoutMs = 10_000) {
        const t0 = Date.now();
        for (;;) {
          const r = await compareStates(keys);
          if (r.converged) return Date.now() - t0;
          if (Date.now() - t0 > timeoutMs) {
            throw new BackendUnavailableError(`not converged in ${timeoutMs} ms`, {
              diverged: r.diverged.slice(0, 10),
            });
          }
          await new Promise((res) => setTimeout(res, 100));
        }
      },
      async stopConsumer(region) {
        const h = handles[region]!;
        await h.consumer?.stop();
        h.consumer = undefined;
      },
      async startConsumer(region) {
        const h = handles[region]!;
        if (h.consumer) return;
        h.consumer = await spawnService(consumerSpawn(region), logDir);
        started.push(h.consumer);
      },
      stop: stopAll,
    };
  } catch (err) {
    await stopAll();
    throw err;
  }
}

/** The schema registry's token for the children, unless they inherit it from this environment anyway. */
function registryTokenEnv(config: MeridianConfig): Record<string, string> {
  const inherited =
    process.env.MERIDIAN_SCHEMA_REGISTRY_TOKEN !== undefined ||
    process.env.MERIDIAN_SCHEMA_REGISTRY_TOKEN_FILE !== undefined;
  const token = config.schemaRegistryToken;
  return token && !inherited ? { MERIDIAN_SCHEMA_REGISTRY_TOKEN: token.reveal() } : {};
}
