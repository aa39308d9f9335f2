// A region node started with secrets — bearer token, Redis ACL password (a private redis-server that
// requires it), PostgreSQL password — works with them and never shows them: not in its log output (info
// level, through a refused request, an accepted write and a shutdown), not in /metrics, /healthz or
// /openapi.json.
import { randomBytes } from "node:crypto";
import { type ServiceProcess, spawnService } from "@meridian/cluster";
import { configFromEnv } from "@meridian/core";
import { createPgPool } from "@meridian/store";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startAclRedis } from "../support/acl-redis.js";
import { uniqueNamespace } from "../support/pipeline.js";

const secret = (label: string) => `${label}-${randomBytes(12).toString("hex")}`;
const TOKEN = secret("tok");
const REDIS_PASSWORD = secret("redis");
const PG_PASSWORD = secret("pg");
const namespace = uniqueNamespace("secrets");
const schema = `meridian_${namespace.replace(/[^a-z0-9_]/gi, "_")}`.toLowerCase();

let redis: Awaited<ReturnType<typeof startAclRedis>>;
let node: ServiceProcess | undefined;
const output: string[] = [];

beforeAll(async () => {
  redis = await startAclRedis(REDIS_PASSWORD);
  node = await spawnService({
    name: "region-node",
    service: "region-node",
    env: {
      MERIDIAN_REGION: "us-east",
      MERIDIAN_NAMESPACE: namespace,
      MERIDIAN_PG_SCHEMA: schema,
      MERIDIAN_REDIS_URL: redis.url,
      MERIDIAN_REDIS_USERNAME: "meridian",
      MERIDIAN_REDIS_PASSWORD: REDIS_PASSWORD,
      MERIDIAN_PG_PASSWORD: PG_PASSWORD,
      MERIDIAN_AUTH_TOKEN: TOKEN,
      MERIDIAN_LOG_LEVEL: "debug",
    },
    readyMsg: "listening",
  });
  node.child.stdout!.on("data", (d: Buffer) => output.push(d.toString()));
  node.child.stderr!.on("data", (d: Buffer) => output.push(d.toString()));
  output.push(JSON.stringify(node.readyLine));
}, 90_000);

afterAll(async () => {
  await node?.stop();
  redis?.stop();
  const pool = createPgPool(configFromEnv().pgUrl, { max: 1 });
  await pool.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`).catch(() => undefined);
  await pool.end();
});

describe("secrets", () => {
  it("are used but never appear in logs, /metrics, /healthz or /openapi.json", async () => {
    const url = String(node!.readyLine.url);
    const write = (headers: Record<string, string>) =>
      fetch(`${url}/v1/important/px:secret`, {
        method: "PUT",
        headers: { "content-type": "application/json", ...headers },
        body: JSON.stringify({ value: 1 }),
      });
    expect((await write({})).status).toBe(401);
    expect((await write({ authorization: "Bearer wrong" })).status).toBe(401);
    expect((await write({ authorization: `Bearer ${TOKEN}` })).status).toBe(200);
    const critical = await fetch(`${url}/v1/critical/bal:secret`, {
      method: "PUT",
      headers: { "content-type": "application/json", authorization: `Bearer ${TOKEN}` },
      body: JSON.stringify({ value: 5 }),
    });
    expect(critical.status).toBe(200);
    const pages = await Promise.all(
      ["/metrics", "/healthz", "/openapi.json"].map(async (p) => (await fetch(`${url}${p}`)).text()),
    );
    expect(pages[1]).toContain('"status":"ok"');
    await node!.stop();
    const everything = [...output, ...pages].join("\n");
    expect(everything).toContain("listening");
    for (const s of [TOKEN, REDIS_PASSWORD, PG_PASSWORD]) expect(everything).not.toContain(s);
  }, 60_000);
});
