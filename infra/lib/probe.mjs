// Small probes used by the infra shell scripts (node, no build step).
//   node infra/lib/probe.mjs free-ports <preferred>...   -> one free port per argument (preferred when free)
//   node infra/lib/probe.mjs kafka <host:port,...> [waitMs] -> waits until the broker answers metadata
//   node infra/lib/probe.mjs redis <url> [waitMs]          -> waits until PING answers PONG
//   node infra/lib/probe.mjs pg <url> [waitMs]             -> waits until `SELECT 1` answers
//   node infra/lib/probe.mjs http <url> [waitMs]           -> waits until GET answers 200
// Exit code 0 when the server answered, 1 otherwise (last error on stderr).
import net from "node:net";

const [cmd, ...args] = process.argv.slice(2);

function listenOn(port) {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once("error", () => resolve(null));
    server.listen(port, "127.0.0.1", () => resolve(server));
  });
}

function somethingAnswers(port) {
  return new Promise((resolve) => {
    const socket = net.connect({ host: "127.0.0.1", port });
    socket.setTimeout(500);
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("timeout", () => {
      socket.destroy();
      resolve(false);
    });
    socket.once("error", () => resolve(false));
  });
}

// Holds every chosen port open until all are chosen, so two arguments never get the same port.
async function freePorts(preferred) {
  const held = [];
  const chosen = [];
  for (const p of preferred) {
    const port = Number(p);
    let server = port > 0 && !(await somethingAnswers(port)) ? await listenOn(port) : null;
    if (!server) server = await listenOn(0);
    if (!server) throw new Error("no free port on 127.0.0.1");
    held.push(server);
    chosen.push(server.address().port);
  }
  await Promise.all(held.map((s) => new Promise((r) => s.close(r))));
  return chosen;
}

async function once(kind, target) {
  if (kind === "kafka") {
    const { Kafka, logLevel } = (await import("kafkajs")).default;
    const kafka = new Kafka({
      clientId: "meridian-infra-probe",
      brokers: target.split(","),
      logLevel: logLevel.NOTHING,
      connectionTimeout: 1000,
      retry: { retries: 0 },
    });
    const admin = kafka.admin();
    try {
      await admin.connect();
      const cluster = await admin.describeCluster();
      await admin.listTopics();
      return `kafka cluster ${cluster.clusterId}, brokers ${cluster.brokers.map((b) => `${b.host}:${b.port}`).join(",")}`;
    } finally {
      await admin.disconnect().catch(() => {});
    }
  }
  if (kind === "redis") {
    const Redis = (await import("ioredis")).default;
    const redis = new Redis(target, {
      lazyConnect: true,
      maxRetriesPerRequest: 0,
      enableOfflineQueue: false,
      retryStrategy: () => null,
      connectTimeout: 1000,
    });
    redis.on("error", () => {});
    try {
      await redis.connect();
      const pong = await redis.ping();
      if (pong !== "PONG") throw new Error(`PING answered ${pong}`);
      return `redis ${target} PONG`;
    } finally {
      redis.disconnect();
    }
  }
  if (kind === "pg") {
    const pg = (await import("pg")).default;
    const client = new pg.Client({ connectionString: target, connectionTimeoutMillis: 1000 });
    client.on("error", () => {});
    try {
      await client.connect();
      const res = await client.query("select version() as v");
      return `postgres ${String(res.rows[0].v).split(" on ")[0]}`;
    } finally {
      await client.end().catch(() => {});
    }
  }
  if (kind === "http") {
    const res = await fetch(target, { signal: AbortSignal.timeout(1000) });
    if (res.status !== 200) throw new Error(`GET ${target} answered ${res.status}`);
    return `http ${target} 200`;
  }
  throw new Error(`unknown probe ${kind}`);
}

async function waitFor(kind, target, waitMs) {
  const deadline = Date.now() + waitMs;
  let lastError;
  for (;;) {
    try {
      return await once(kind, target);
    } catch (err) {
      lastError = err;
    }
    if (Date.now() >= deadline) throw lastError;
    await new Promise((r) => setTimeout(r, 250));
  }
}

try {
  if (cmd === "free-ports") {
    console.log((await freePorts(args)).join(" "));
  } else {
    console.log(await waitFor(cmd, args[0], Number(args[1] ?? 0)));
  }
  process.exit(0);
} catch (err) {
  console.error(`probe ${cmd} ${args[0] ?? ""}: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
}
