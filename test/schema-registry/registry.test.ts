// The schema registry against the real Kafka broker: Confluent REST semantics, typed errors, ids that
// survive a restart because the state is replayed from its compacted topic, and the bearer token on every
// route that changes state (reads stay open).
import { spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";
import { AvroSerde } from "@meridian/bus";
import { freePort } from "@meridian/cluster";
import { AuthenticationError, Secret } from "@meridian/core";
import { type RunningSchemaRegistry, startSchemaRegistry } from "@meridian/schema-registry";
import { ConfigResourceTypes, Kafka, logLevel } from "kafkajs";
import pino from "pino";
import { afterAll, describe, expect, it } from "vitest";
import { configFromEnv } from "../../packages/core/src/index.js";

const config = configFromEnv();
const runId = randomUUID().slice(0, 8);
const topic = `_schemas-test-${runId}`;
const logger = pino({ level: "warn" });
const kafka = new Kafka({
  clientId: `registry-test-${runId}`,
  brokers: config.kafkaBrokers,
  logLevel: logLevel.NOTHING,
});
const token = new Secret(`registry-test-${runId}-${randomUUID()}`);
const auth = { token, reads: false };
const cacheUpdate = readFileSync(new URL("../../schemas/CacheUpdate.avsc", import.meta.url), "utf8");

async function call(base: string, method: string, path: string, body?: unknown, bearer = token.reveal()) {
  const res = await fetch(`${base}${path}`, {
    method,
    headers: {
      "content-type": "application/vnd.schemaregistry.v1+json",
      ...(bearer ? { authorization: `Bearer ${bearer}` } : {}),
    },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  return {
    status: res.status,
    challenge: res.headers.get("www-authenticate"),
    json: (await res.json()) as Record<string, unknown> & unknown[],
  };
}

const withField = (schema: string, field: object) => {
  const json = JSON.parse(schema);
  json.fields.push(field);
  return JSON.stringify(json);
};

describe("schema registry on the real broker", () => {
  const running: RunningSchemaRegistry[] = [];
  const extraTopics: string[] = [];
  const admin = kafka.admin();

  afterAll(async () => {
    for (const r of running) await r.close().catch(() => {});
    await admin.connect();
    await admin.deleteTopics({ topics: [topic, ...extraTopics] }).catch(() => {});
    await admin.disconnect();
  });

  it("registers, looks up, rejects with Confluent errors, and keeps ids across a restart", async () => {
    const first = await startSchemaRegistry({ brokers: config.kafkaBrokers, port: 0, topic, logger, auth });
    running.push(first);
    const base = first.url;

    expect((await call(base, "GET", "/subjects")).json).toEqual([]);
    const reg = await call(base, "POST", "/subjects/t-value/versions", { schema: cacheUpdate });
    expect(reg.status).toBe(200);
    const id1 = reg.json.id as number;
    expect(id1).toBeGreaterThan(0);
    // Idempotent: same schema → same id, no new version.
    expect((await call(base, "POST", "/subjects/t-value/versions", { schema: cacheUpdate })).json).toEqual({
      id: id1,
    });
    const evolved = withField(cacheUpdate, { name: "traceId", type: ["null", "string"], default: null });
    const id2 = (await call(base, "POST", "/subjects/t-value/versions", { schema: evolved })).json
      .id as number;
    expect(id2).toBe(id1 + 1);
    expect((await call(base, "GET", "/subjects/t-value/versions")).json).toEqual([1, 2]);
    expect((await call(base, "GET", "/subjects/t-value/versions/latest")).json).toMatchObject({
      id: id2,
      version: 2,
    });
    expect((await call(base, "POST", "/subjects/t-value", { schema: cacheUpdate })).json).toMatchObject({
      id: id1,
      version: 1,
    });

    // Typed errors in Confluent's {error_code, message} shape.
    const incompatible = await call(base, "POST", "/subjects/t-value/versions", {
      schema: withField(evolved, { name: "mandatory", type: "string" }),
    });
    expect(incompatible.status).toBe(409);
    expect(incompatible.json).toMatchObject({ error_code: 409 });
    expect(String(incompatible.json.message)).toMatch(/mandatory/);
    const check = await call(base, "POST", "/compatibility/subjects/t-value/versions/latest", {
      schema: withField(evolved, { name: "mandatory", type: "string" }),
    });
    expect(check.json).toEqual({ is_compatible: false });
    const invalid = await call(base, "POST", "/subjects/t-value/versions", { schema: '{"type":"record"}' });
    expect(invalid.status).toBe(422);
    expect(invalid.json.error_code).toBe(42201);
    const unknown = await call(base, "GET", "/schemas/ids/999999");
    expect(unknown.status).toBe(404);
    expect(unknown.json.error_code).toBe(40403);

    // The schemas really are in a compacted topic on the broker.
    await admin.connect();
    const [offsets] = await admin.fetchTopicOffsets(topic);
    expect(Number(offsets?.high)).toBeGreaterThanOrEqual(2);
    const described = await admin.describeConfigs({
      includeSynonyms: false,
      resources: [{ type: ConfigResourceTypes.TOPIC, name: topic, configNames: ["cleanup.policy"] }],
    });
    expect(described.resources[0]?.configEntries[0]?.configValue).toBe("compact");
    await admin.disconnect();

    await first.close();
    running.pop();

    // A new process on the same topic replays it: same ids, same versions, next id continues.
    const second = await startSchemaRegistry({ brokers: config.kafkaBrokers, port: 0, topic, logger, auth });
    running.push(second);
    expect((await call(second.url, "GET", "/subjects")).json).toEqual(["t-value"]);
    expect(JSON.parse((await call(second.url, "GET", `/schemas/ids/${id1}`)).json.schema as string)).toEqual(
      JSON.parse(cacheUpdate),
    );
    expect((await call(second.url, "POST", "/subjects/t-value/versions", { schema: evolved })).json).toEqual({
      id: id2,
    });
    const id3 = (
      await call(second.url, "POST", "/subjects/other-value/versions", {
        schema: '{"type":"record","name":"Other","fields":[{"name":"n","type":"int"}]}',
      })
    ).json.id;
    expect(id3).toBe(id2 + 1);
    // The same schema under another subject shares its id (ids are global, as in Confluent).
    expect(
      (await call(second.url, "POST", "/subjects/copy-value/versions", { schema: cacheUpdate })).json,
    ).toEqual({
      id: id1,
    });
  });

  it("concurrent registrations get one id per distinct schema and gap-free versions", async () => {
    const ctopic = `${topic}-concurrent`;
    extraTopics.push(ctopic);
    const reg = await startSchemaRegistry({
      brokers: config.kafkaBrokers,
      port: 0,
      topic: ctopic,
      logger,
      auth,
    });
    running.push(reg);
    await call(reg.url, "PUT", "/config", { compatibility: "NONE" });
    const schemas = Array.from({ length: 6 }, (_, i) =>
      JSON.stringify({ type: "record", name: `C${i}`, fields: [{ name: "f", type: "long" }] }),
    );
    const jobs = Array.from({ length: 36 }, (_, j) => ({ subject: `sub-${j % 3}`, schema: schemas[j % 6]! }));
    const results = await Promise.all(
      jobs.map(async (job) => ({
        ...job,
        ...(await call(reg.url, "POST", `/subjects/${job.subject}/versions`, { schema: job.schema })),
      })),
    );
    expect(results.every((r) => r.status === 200)).toBe(true);
    const idBySchema = new Map<string, Set<number>>();
    for (const r of results)
      idBySchema.set(r.schema, (idBySchema.get(r.schema) ?? new Set()).add(r.json.id as number));
    expect([...idBySchema.values()].every((ids) => ids.size === 1)).toBe(true);
    expect(new Set([...idBySchema.values()].map((ids) => [...ids][0])).size).toBe(6);
    for (const subject of ["sub-0", "sub-1", "sub-2"]) {
      // Each subject got 2 distinct schemas (j%6 over j%3): versions 1 and 2, no gaps, no duplicates.
      expect((await call(reg.url, "GET", `/subjects/${subject}/versions`)).json).toEqual([1, 2]);
    }
  });

  it("register, delete and config need the bearer token (401 + challenge); reads stay open", async () => {
    const atopic = `${topic}-auth`;
    extraTopics.push(atopic);
    const reg = await startSchemaRegistry({
      brokers: config.kafkaBrokers,
      port: 0,
      topic: atopic,
      logger,
      auth,
    });
    running.push(reg);
    const schema = { schema: cacheUpdate };
    for (const bearer of ["", "wrong-token"]) {
      const refused = await call(reg.url, "POST", "/subjects/a-value/versions", schema, bearer);
      expect(refused.status).toBe(401);
      expect(refused.json.error_code).toBe(40101);
      expect(refused.challenge).toMatch(/^Bearer realm="meridian"/);
      expect((await call(reg.url, "PUT", "/config", { compatibility: "NONE" }, bearer)).status).toBe(401);
      expect((await call(reg.url, "PUT", "/config/a-value", { compatibility: "NONE" }, bearer)).status).toBe(
        401,
      );
      expect((await call(reg.url, "DELETE", "/subjects/a-value", undefined, bearer)).status).toBe(401);
    }
    expect((await call(reg.url, "GET", "/subjects", undefined, "")).json).toEqual([]); // nothing got in
    const ok = await call(reg.url, "POST", "/subjects/a-value/versions", schema);
    expect(ok.status).toBe(200);
    const id = ok.json.id as number;
    // Reads need no token: subjects, versions, schema by id, lookup and compatibility checks.
    expect((await call(reg.url, "GET", "/subjects", undefined, "")).json).toEqual(["a-value"]);
    expect((await call(reg.url, "GET", `/schemas/ids/${id}`, undefined, "")).status).toBe(200);
    expect((await call(reg.url, "GET", "/subjects/a-value/versions/latest", undefined, "")).status).toBe(200);
    expect((await call(reg.url, "POST", "/subjects/a-value", schema, "")).status).toBe(200);
    const compat = await call(reg.url, "POST", "/compatibility/subjects/a-value/versions/latest", schema, "");
    expect(compat.json).toEqual({ is_compatible: true });
    expect((await call(reg.url, "GET", "/healthz", undefined, "")).status).toBe(200);

    // The Avro serde sends the token; with a wrong one it fails with a typed, non-retriable error, quickly.
    expect(await new AvroSerde(reg.url, { token }).schemaId("CacheUpdate")).toBe(id);
    const t0 = Date.now();
    const err = await new AvroSerde(reg.url, { token: new Secret("not-the-token") })
      .schemaId("CacheUpdate")
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AuthenticationError);
    expect((err as AuthenticationError).retriable).toBe(false);
    expect(String((err as Error).message)).not.toContain(token.reveal());
    expect(Date.now() - t0).toBeLessThan(10_000);
  });

  it("runs from main.ts as the infra starts it, and a SIGKILLed process's ids survive in the next one", async () => {
    const startProcess = async () => {
      const port = await freePort();
      // Own process group, so the tsx wrapper and its node child are killed together by group id.
      const child = spawn("node_modules/.bin/tsx", ["services/schema-registry/src/main.ts"], {
        cwd: new URL("../..", import.meta.url).pathname,
        env: {
          ...process.env,
          MERIDIAN_KAFKA_BROKERS: config.kafkaBrokers.join(","),
          SCHEMA_REGISTRY_PORT: String(port),
          SCHEMA_REGISTRY_TOPIC: topic,
          LOG_LEVEL: "warn",
          MERIDIAN_SCHEMA_REGISTRY_TOKEN: token.reveal(),
          MERIDIAN_SCHEMA_REGISTRY_TOKEN_FILE: undefined,
        },
        stdio: "ignore",
        detached: true,
      });
      const exited = new Promise((r) => child.once("exit", r));
      const url = `http://127.0.0.1:${port}`;
      let status = 0;
      for (let i = 0; i < 240 && status !== 200; i++) {
        status = await fetch(`${url}/subjects`)
          .then((r) => r.status)
          .catch(() => 0);
        if (status !== 200) await new Promise((r) => setTimeout(r, 250));
      }
      expect(status).toBe(200);
      const stop = async (signal: NodeJS.Signals) => {
        try {
          process.kill(-child.pid!, signal);
        } catch {}
        await exited;
      };
      return { url, stop };
    };

    const a = await startProcess();
    let aStopped = false;
    try {
      const health = await call(a.url, "GET", "/healthz");
      expect(health.json).toMatchObject({ status: "ok", topic });
      expect(health.json.schemas).toBeGreaterThanOrEqual(3);
      const schema = JSON.stringify({
        type: "record",
        name: "Killed",
        fields: [{ name: "k", type: "string" }],
      });
      const id = (await call(a.url, "POST", "/subjects/killed-value/versions", { schema })).json.id as number;
      await a.stop("SIGKILL");
      aStopped = true;

      const b = await startProcess();
      try {
        expect(JSON.parse((await call(b.url, "GET", `/schemas/ids/${id}`)).json.schema as string)).toEqual(
          JSON.parse(schema),
        );
        expect((await call(b.url, "POST", "/subjects/killed-value/versions", { schema })).json).toEqual({
          id,
        });
        expect((await call(b.url, "GET", "/subjects")).json).toContain("killed-value");
      } finally {
        await b.stop("SIGTERM");
      }
    } finally {
      if (!aStopped) await a.stop("SIGKILL");
    }
  });
});
