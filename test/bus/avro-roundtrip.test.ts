// An Avro CacheUpdate through the real broker and the registry and back, equal; the broker's own cluster
// metadata is read so that an in-memory fake could not pass. Also: typed errors for bad bytes and schemas.
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  AvroSerde,
  type CacheUpdate,
  type ConsumedMessage,
  ConsumerGroup,
  createKafka,
  ensureTopics,
  IdempotentProducer,
  type Invalidation,
  type LockEvent,
  loadSchema,
  type MarketTickRecord,
  topicsFor,
} from "../../packages/bus/src/index.js";
import { BackendUnavailableError, SerializationError } from "../../packages/core/src/index.js";
import {
  config,
  deleteTopics,
  eventually,
  runId,
  type TestRegistry,
  testKafka,
  testRegistry,
} from "../support/bus.js";

const t = topicsFor(`bus-test-${runId}`);
const updatesTopic = t.updates("us-east");

const update: CacheUpdate = {
  key: "price:AAPL",
  kind: "UPDATE",
  crdtType: "lww",
  state: JSON.stringify({ value: 187.25, hlc: { wallMs: 1_764_000_000_123, logical: 2, node: "us-east-1" } }),
  region: "us-east",
  vectorClock: { "us-east": 7, "eu-west": 3 },
  hlcWallMs: 1_764_000_000_123,
  hlcLogical: 2,
  hlcNode: "us-east-1",
  producedAtMs: Date.now(),
};

describe("Avro over the real broker and registry", () => {
  let registry: TestRegistry;
  let serde: AvroSerde;
  const kafka = createKafka(config, `bus-avro-${runId}`);

  beforeAll(async () => {
    registry = await testRegistry();
    serde = new AvroSerde(registry.url);
    await ensureTopics(kafka, [updatesTopic, t.marketTicks, t.invalidations("us-east")], { partitions: 3 });
  });

  afterAll(async () => {
    await deleteTopics([updatesTopic, t.marketTicks, t.invalidations("us-east")]);
    await registry.close();
  });

  it("a CacheUpdate comes back equal, on a topic the broker reports with 3 partitions", async () => {
    // The broker's cluster metadata: a real broker id and host, our topic with 3 partitions and leaders.
    const admin = testKafka("meta").admin();
    await admin.connect();
    const cluster = await admin.describeCluster();
    const meta = await admin.fetchTopicMetadata({ topics: [updatesTopic] });
    await admin.disconnect();
    expect(cluster.brokers.length).toBeGreaterThanOrEqual(1);
    expect(cluster.clusterId).toMatch(/\S{8,}/);
    const brokerAddrs = cluster.brokers.map((b) => `${b.host}:${b.port}`);
    expect(
      brokerAddrs.some(
        (a) => config.kafkaBrokers.includes(a) || a.endsWith(`:${config.kafkaBrokers[0]?.split(":")[1]}`),
      ),
    ).toBe(true);
    const partitions = meta.topics[0]?.partitions ?? [];
    expect(partitions).toHaveLength(3);
    for (const p of partitions) expect(cluster.brokers.map((b) => b.nodeId)).toContain(p.leader);

    const producer = new IdempotentProducer(kafka);
    const value = await serde.encodeCacheUpdate(update);
    // Confluent framing: magic byte 0 and an id the registry resolves to the CacheUpdate schema.
    expect(value[0]).toBe(0);
    const schemaId = value.readInt32BE(1);
    const byId = (await (await fetch(`${registry.url}/schemas/ids/${schemaId}`)).json()) as {
      schema: string;
    };
    expect(JSON.parse(byId.schema)).toEqual(JSON.parse(loadSchema("CacheUpdate")));
    await producer.send(updatesTopic, [{ key: update.key, value, headers: { region: "us-east" } }]);
    await producer.disconnect();

    const received: ConsumedMessage[] = [];
    const consumer = new ConsumerGroup(kafka, {
      groupId: `avro-${runId}`,
      topics: [updatesTopic],
      deadLetter: { topic: `bus-avro-dlq-${runId}` },
      fromBeginning: true,
    });
    await consumer.start(async (m) => {
      received.push(m);
    });
    expect(await eventually(() => received.length >= 1)).toBe(true);
    await consumer.stop();

    const [msg] = received;
    expect(msg?.key).toBe(update.key);
    expect(msg?.headers).toEqual({ region: "us-east" });
    expect(await serde.decodeCacheUpdate(msg!.value!)).toEqual(update);
    // A second serde (another process) resolves the writer schema from the registry by id alone.
    expect(await new AvroSerde(registry.url).decodeCacheUpdate(msg!.value!)).toEqual(update);
  });

  it("MarketTick, Invalidation and LockEvent round-trip through the registry", async () => {
    const tick: MarketTickRecord = {
      symbol: "SYM001",
      price: 100.5,
      bid: 100.45,
      ask: 100.55,
      volume: 17,
      sequence: 9,
      timestampMs: Date.now(),
    };
    const inv: Invalidation = {
      key: "acct:1",
      version: 42,
      region: "eu-west",
      reason: "WRITE",
      hlcWallMs: 1,
      hlcLogical: 0,
      producedAtMs: 2,
    };
    const lock: LockEvent = {
      lockKey: "lock:acct:1",
      event: "ACQUIRED",
      owner: "c1",
      fencingToken: 5,
      ttlMs: null,
      region: "us-east",
      atMs: 3,
    };
    expect(await serde.decode(await serde.encode("MarketTick", tick))).toEqual(tick);
    expect(await serde.decode(await serde.encode("Invalidation", inv))).toEqual(inv);
    expect(await serde.decode(await serde.encode("LockEvent", lock))).toEqual(lock);
  });

  it("malformed bytes, unknown ids, wrong record types and invalid values give SerializationError", async () => {
    const good = await serde.encodeCacheUpdate(update);
    const unknownId = Buffer.from(good);
    unknownId.writeInt32BE(2_000_000_000, 1);
    const cases: Buffer[] = [
      Buffer.from("not avro at all"),
      Buffer.from([0, 0, 0]),
      unknownId,
      good.subarray(0, good.length - 6), // truncated body
      Buffer.concat([good, Buffer.from([1, 2, 3])]), // trailing garbage
      await serde.encode("MarketTick", {
        symbol: "X",
        price: 1,
        bid: 1,
        ask: 1,
        volume: 1,
        sequence: 1,
        timestampMs: 1,
      }),
    ];
    for (const buf of cases) {
      await expect(serde.decodeCacheUpdate(buf)).rejects.toBeInstanceOf(SerializationError);
    }
    await expect(serde.encodeCacheUpdate({ ...update, crdtType: "bogus" as never })).rejects.toBeInstanceOf(
      SerializationError,
    );
  });

  it("an unreachable registry is BackendUnavailableError, not SerializationError (retry, don't dead-letter)", async () => {
    const good = await serde.encodeCacheUpdate(update);
    // A fresh serde has no cached schema; port 1 on loopback refuses connections.
    const offline = new AvroSerde("http://127.0.0.1:1");
    await expect(offline.decodeCacheUpdate(good)).rejects.toBeInstanceOf(BackendUnavailableError);
    await expect(offline.encodeCacheUpdate(update)).rejects.toBeInstanceOf(BackendUnavailableError);
  });

  it("the registry rejects an incompatible CacheUpdate (new field without default) with SerializationError", async () => {
    await serde.schemaId("CacheUpdate"); // the current schema is registered
    const dir = mkdtempSync(join(tmpdir(), "meridian-schemas-"));
    const evolved = JSON.parse(loadSchema("CacheUpdate"));
    evolved.fields.push({ name: "mandatoryNewField", type: "string" });
    writeFileSync(join(dir, "CacheUpdate.avsc"), JSON.stringify(evolved));
    const next = new AvroSerde(registry.url, { schemasDir: dir });
    const err = await next.encodeCacheUpdate(update).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SerializationError);
    expect(String((err as Error).message)).toMatch(/mandatoryNewField/);
  });

  it("a subject configured with another compatibility level is refused with SerializationError", async () => {
    const dir = mkdtempSync(join(tmpdir(), "meridian-schemas-"));
    const namespace = `io.meridian.test${runId.replace(/-/g, "")}`;
    writeFileSync(
      join(dir, "Probe.avsc"),
      JSON.stringify({ type: "record", name: "Probe", namespace, fields: [{ name: "n", type: "int" }] }),
    );
    // Changing a subject's config is a write: the registry wants its bearer token (infra/up.sh's).
    const token = config.schemaRegistryToken?.reveal();
    const res = await fetch(`${registry.url}/config/${namespace}.Probe`, {
      method: "PUT",
      headers: token ? { authorization: `Bearer ${token}` } : {},
      body: JSON.stringify({ compatibility: "FORWARD" }),
    });
    expect(res.status).toBe(200);
    const probe = new AvroSerde(registry.url, { schemasDir: dir });
    const err = await probe.encode("Probe", { n: 1 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SerializationError);
    expect(String((err as Error).message)).toMatch(/FORWARD/);
  });

  it("a newer compatible writer schema is resolved into the reader's schema", async () => {
    const dir = mkdtempSync(join(tmpdir(), "meridian-schemas-"));
    const namespace = `io.meridian.evolve${runId.replace(/-/g, "")}`;
    const v1 = { type: "record", name: "Quote", namespace, fields: [{ name: "symbol", type: "string" }] };
    const v2 = {
      ...v1,
      fields: [...v1.fields, { name: "venue", type: "string", default: "XNAS" }],
    };
    writeFileSync(join(dir, "QuoteV1.avsc"), JSON.stringify(v1));
    writeFileSync(join(dir, "QuoteV2.avsc"), JSON.stringify(v2));
    const writerSide = new AvroSerde(registry.url, { schemasDir: dir });
    const oldBytes = await writerSide.encode("QuoteV1", { symbol: "AAPL" });
    const newBytes = await writerSide.encode("QuoteV2", { symbol: "MSFT", venue: "XLON" });
    expect(newBytes.readInt32BE(1)).not.toBe(oldBytes.readInt32BE(1));
    const readerSide = new AvroSerde(registry.url, { schemasDir: dir });
    // Old reader drops the new field; new reader fills the default for old data.
    expect(await readerSide.decode(newBytes, "QuoteV1")).toEqual({ symbol: "MSFT" });
    expect(await readerSide.decode(oldBytes, "QuoteV2")).toEqual({ symbol: "AAPL", venue: "XNAS" });
    expect(await readerSide.decode(newBytes)).toEqual({ symbol: "MSFT", venue: "XLON" });
    await expect(serde.decodeCacheUpdate(newBytes)).rejects.toBeInstanceOf(SerializationError);
  });
});
