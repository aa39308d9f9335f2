// Coalesced, batched eventual writes against the real Redis and broker: a hot PN-counter incremented by
// 256 writers at full speed ends exactly at the sum of acknowledged increments, in Redis and as read
// back from the topic; coalescing never loses or reorders a key's writes (fast-check against applying
// each write one by one); racing batched CAS writes lose no OR-set add; with Kafka unreachable writers get BackendUnavailableError within the bound
// and, past the bound on writes in progress, OverloadedError with nothing written.
import {
  AvroSerde,
  type CacheUpdate,
  ConsumerGroup,
  createKafka,
  ensureTopics,
  IdempotentProducer,
} from "@meridian/bus";
import {
  type AnyCrdt,
  BackendUnavailableError,
  emptyCrdt,
  OverloadedError,
  VectorClock,
} from "@meridian/core";
import {
  applyRemoteUpdate,
  applyWrite,
  batchingUpdatePublisher,
  EventualConsistencyCache,
} from "@meridian/eventual";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { deleteTopics, eventually, type TestRegistry, testRegistry } from "../support/bus.js";
import { cleanup, config, makeRegions, policy, runId } from "./support/eventual-env.js";

const topic = `meridian-coalesce-${runId}`;
let registry: TestRegistry;
const kafka = createKafka(config, `coalesce-test-${runId}`);
// GZIP, as the region node produces updates: the consumer reads the compressed batches back.
const producer = new IdempotentProducer(kafka, { compression: "gzip" });

beforeAll(async () => {
  registry = await testRegistry();
  await ensureTopics(kafka, [topic], { partitions: 3 });
  await producer.connect();
});

afterAll(async () => {
  await producer.disconnect();
  await deleteTopics([topic, `${topic}-dlq`]);
  await registry?.close();
  await cleanup();
});

describe("coalesced writes through Redis and Kafka", () => {
  it("a hot PN-counter under 256 writers equals the acknowledged sum, locally and as consumed from the topic", async () => {
    const [a, b] = makeRegions("hot", ["us-east", "eu-west"]);
    const serde = new AvroSerde(registry.url);
    const cache = new EventualConsistencyCache(a!.redis, batchingUpdatePublisher(producer, serde, topic), {
      region: "us-east",
      keyPrefix: a!.keyPrefix,
      crdtTypeFor: policy,
    });
    const amounts = fc.sample(fc.integer({ min: -50, max: 100 }), 5_000);
    let acked = 0;
    let next = 0;
    const failures: unknown[] = [];
    const worker = async () => {
      while (next < amounts.length) {
        const by = amounts[next++]!;
        const op = by >= 0 ? { op: "increment" as const, by } : { op: "decrement" as const, by: -by };
        try {
          await cache.setWithEventualConsistency("position:HOT", op);
          acked += by;
        } catch (err) {
          failures.push(err);
        }
      }
    };
    await Promise.all(Array.from({ length: 256 }, worker));
    expect(failures).toEqual([]);
    const local = await cache.getWithEventualConsistency("position:HOT");
    expect(local!.value).toBe(acked);

    // Read the topic back and merge every record into another region, as a consumer would.
    const received: CacheUpdate[] = [];
    const consumer = new ConsumerGroup(kafka, {
      groupId: `coalesce-${runId}`,
      topics: [topic],
      deadLetter: { topic: `${topic}-dlq` },
      fromBeginning: true,
    });
    await consumer.start(async (msg) => {
      const update = await serde.decodeCacheUpdate(msg.value!);
      await applyRemoteUpdate(b!.redis, b!.keyPrefix, update);
      received.push(update);
    });
    try {
      const finalClock = VectorClock.from(local!.version);
      const sawFinal = () => received.some((u) => VectorClock.from(u.vectorClock).equals(finalClock));
      expect(await eventually(sawFinal, 60_000)).toBe(true);
      expect((await b!.cache.getWithEventualConsistency("position:HOT"))!.value).toBe(acked);
      // Coalesced: far fewer records than writes, and still every acknowledged write counted.
      expect(received.length).toBeLessThan(amounts.length);
    } finally {
      await consumer.stop();
    }
  }, 60_000);

  it("two coalescing writers on one region's keys lose no OR-set add when their batched CAS writes race", async () => {
    const [a] = makeRegions("race", ["us-east"]);
    const noop = { publish: async () => {}, publishMany: async () => {} };
    const writers = ["n1", "n2"].map(
      () =>
        new EventualConsistencyCache(a!.redis, noop, {
          region: "us-east",
          keyPrefix: a!.keyPrefix,
          crdtTypeFor: policy,
        }),
    );
    const keys = ["watch:r0", "watch:r1", "watch:r2"];
    // Both writers hit the same few keys at once, so one batch's CAS often finds the revision moved
    // and must redo its key from the new state.
    await Promise.all(
      writers.flatMap((w, wi) =>
        Array.from({ length: 300 }, (_, i) =>
          w.setWithEventualConsistency(keys[i % keys.length]!, { op: "add", element: `w${wi}-${i}` }),
        ),
      ),
    );
    for (const [k, key] of keys.entries()) {
      const read = await a!.cache.getWithEventualConsistency(key);
      const expected = [0, 1].flatMap((wi) =>
        Array.from({ length: 300 }, (_, i) => i)
          .filter((i) => i % keys.length === k)
          .map((i) => `w${wi}-${i}`),
      );
      expect([...(read!.value as string[])].sort()).toEqual(expected.sort());
    }
  });

  it("with Kafka unreachable: BackendUnavailableError within the bound, OverloadedError past maxPending with nothing written", async () => {
    const [a] = makeRegions("down", ["us-east"]);
    const deadKafka = createKafka({ ...config, kafkaBrokers: ["127.0.0.1:1"] }, `coalesce-dead-${runId}`);
    const deadProducer = new IdempotentProducer(deadKafka);
    const serde = new AvroSerde(registry.url);
    const publisher = batchingUpdatePublisher(deadProducer, serde, topic, { sendTimeoutMs: 1_000 });
    const cache = new EventualConsistencyCache(a!.redis, publisher, {
      region: "us-east",
      keyPrefix: a!.keyPrefix,
      crdtTypeFor: policy,
      publishTimeoutMs: 2_000,
      coalesce: { maxPending: 5 },
    });
    const t0 = Date.now();
    const results = await Promise.allSettled(
      Array.from({ length: 20 }, () =>
        cache.setWithEventualConsistency("position:DOWN", { op: "increment" }),
      ),
    );
    const elapsed = Date.now() - t0;
    const errors = results.map((r) => (r.status === "rejected" ? r.reason : null));
    expect(errors.filter((e) => e instanceof BackendUnavailableError)).toHaveLength(5);
    expect(errors.filter((e) => e instanceof OverloadedError)).toHaveLength(15);
    expect(errors.every((e) => e?.retriable === true)).toBe(true);
    expect(elapsed).toBeLessThan(10_000);
    // Only the 5 admitted writes reached Redis (they stay local; anti-entropy spreads them).
    expect((await cache.getWithEventualConsistency("position:DOWN"))!.value).toBe(5);
    await deadProducer.disconnect().catch(() => {});
  }, 30_000);
});

describe("coalescing never loses or reorders a key's writes (real Redis)", () => {
  const writeArb = fc.oneof(
    fc.record({
      key: fc.constantFrom("position:p1", "position:p2"),
      value: fc.oneof(
        fc.record({ op: fc.constantFrom("increment", "decrement"), by: fc.integer({ min: 0, max: 50 }) }),
        fc.integer({ min: -100, max: 100 }),
      ),
    }),
    fc.record({ key: fc.constantFrom("price:l1", "price:l2"), value: fc.integer() }),
    fc.record({
      key: fc.constant("watch:s1"),
      value: fc.record({ op: fc.constantFrom("add", "remove"), element: fc.constantFrom("a", "b", "c") }),
    }),
  );

  it("final values and published states equal applying each write one by one, in issue order", async () => {
    let run = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.tuple(writeArb, fc.boolean()), { minLength: 1, maxLength: 30 }),
        async (script) => {
          const [region] = makeRegions(`prop${run++}`, ["us-east"]);
          const model = new Map<string, AnyCrdt>();
          let tick = 0;
          const acks: Promise<unknown>[] = [];
          for (const [{ key, value }, yieldAfter] of script) {
            const type = policy(key);
            tick++;
            const ctx = {
              region: "m",
              ts: { wallMs: tick, logical: 0, node: "m" },
              clock: VectorClock.from({ m: tick }),
              tag: `m${tick}`,
            };
            model.set(key, applyWrite(type, model.get(key) ?? emptyCrdt(type), value, ctx));
            acks.push(region!.cache.setWithEventualConsistency(key, value));
            if (yieldAfter) await new Promise((r) => setImmediate(r));
          }
          await Promise.all(acks);
          for (const [key, crdt] of model) {
            const read = await region!.cache.getWithEventualConsistency(key);
            expect(read!.value, key).toEqual(crdt.value());
            const last = region!.publisher.published.filter((u) => u.key === key).at(-1)!;
            expect(VectorClock.from(last.vectorClock).equals(VectorClock.from(read!.version)), key).toBe(
              true,
            );
          }
        },
      ),
      { numRuns: 40 },
    );
  }, 60_000);
});
