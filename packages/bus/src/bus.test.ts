// Pure parts of @meridian/bus: topic names, wire header parsing, schema files vs TypeScript shapes.
import { fileURLToPath } from "node:url";
import { InvalidInputError, SerializationError } from "@meridian/core";
import avsc from "avsc";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { type CacheUpdate, loadSchema, parseWireHeader, subjectOf } from "./avro.js";
import { backoffDelay } from "./backoff.js";
import { DLQ_HEADERS, deadLetterMessage } from "./dead-letter.js";
import { headersToStrings } from "./headers.js";
import { topics, topicsFor } from "./topics.js";

describe("topics", () => {
  it("names the design's topics and prefixes a namespace", () => {
    expect(topics.updates("us-east")).toBe("meridian.us-east.updates");
    expect(topics.inbound("eu-west")).toBe("meridian.eu-west.inbound");
    expect(topics.invalidations("ap-south")).toBe("meridian.ap-south.invalidations");
    expect(topics.marketTicks).toBe("meridian.market.ticks");
    expect(topics.deadLetter).toBe("meridian.dead-letter");
    const t = topicsFor("run42");
    expect(t.updates("us-east")).toBe("run42.meridian.us-east.updates");
    expect(t.deadLetter).toBe("run42.meridian.dead-letter");
  });

  it("refuses names Kafka would refuse", () => {
    expect(() => topics.updates("us east")).toThrow(InvalidInputError);
    expect(() => topicsFor("a/b")).toThrow(InvalidInputError);
  });
});

describe("wire header", () => {
  it("parses magic byte + big-endian schema id, for any id and payload", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 2 ** 31 - 1 }), fc.uint8Array({ maxLength: 64 }), (id, body) => {
        const buf = Buffer.concat([Buffer.from([0]), Buffer.alloc(4), Buffer.from(body)]);
        buf.writeInt32BE(id, 1);
        const parsed = parseWireHeader(buf);
        expect(parsed.schemaId).toBe(id);
        expect(Buffer.compare(parsed.payload, Buffer.from(body))).toBe(0);
      }),
      { numRuns: 1000 },
    );
  });

  it("throws SerializationError for short buffers, wrong magic bytes and non-buffers", () => {
    expect(() => parseWireHeader(Buffer.from([0, 0, 0]))).toThrow(SerializationError);
    expect(() => parseWireHeader(Buffer.from([1, 0, 0, 0, 1, 2]))).toThrow(SerializationError);
    expect(() => parseWireHeader("nope")).toThrow(SerializationError);
  });
});

describe("schemas/", () => {
  it("every schema parses and is registered under its full name", () => {
    for (const name of ["CacheUpdate", "MarketTick", "Invalidation", "LockEvent"]) {
      const text = loadSchema(name);
      expect(() => avsc.Type.forSchema(JSON.parse(text))).not.toThrow();
      expect(subjectOf(text)).toBe(`io.meridian.${name}`);
      // The generated module is up to date with the file (`pnpm gen:schemas`).
      expect(text).toBe(loadSchema(name, fileURLToPath(new URL("../../../schemas", import.meta.url))));
    }
    expect(() => loadSchema("../etc/passwd")).toThrow(InvalidInputError);
    expect(() => loadSchema("NoSuchSchema")).toThrow(InvalidInputError);
  });

  it("CacheUpdate values of the TypeScript shape round-trip through the Avro schema", () => {
    const type = avsc.Type.forSchema(JSON.parse(loadSchema("CacheUpdate")));
    const update = fc.record<CacheUpdate>({
      key: fc.string(),
      kind: fc.constantFrom("UPDATE", "ROLLBACK", "INVALIDATE"),
      crdtType: fc.constantFrom("lww", "pncounter", "orset", "mvregister"),
      state: fc.json(),
      region: fc.constantFrom("us-east", "eu-west"),
      // Map keys are node/region ids; "__proto__" cannot survive any decode into a plain JS object.
      vectorClock: fc.dictionary(fc.stringMatching(/^[a-z0-9-]{1,16}$/), fc.nat()),
      hlcWallMs: fc.nat(),
      hlcLogical: fc.nat({ max: 2 ** 31 - 1 }),
      hlcNode: fc.string(),
      producedAtMs: fc.nat(),
    });
    fc.assert(
      fc.property(update, (u) => {
        expect({ ...type.fromBuffer(type.toBuffer(u)) }).toEqual(u);
      }),
      { numRuns: 1000 },
    );
  });
});

describe("consumer helpers", () => {
  it("back-off doubles up to the cap", () => {
    const noJitter = { initialMs: 100, maxMs: 1_000 };
    expect([1, 2, 3, 4, 10].map((n) => backoffDelay(n, noJitter))).toEqual([100, 200, 400, 800, 1_000]);
  });
  it("jittered back-off stays within [base·(1-jitter), base] for any attempt and draw", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 200 }),
        fc.double({ min: 0, max: 0.999999, noNaN: true }),
        (n, r) => {
          const base = Math.min(30_000, 500 * 2 ** Math.min(n - 1, 30));
          const d = backoffDelay(n, { initialMs: 500, maxMs: 30_000, jitter: 0.5 }, () => r);
          expect(d).toBeGreaterThanOrEqual(Math.floor(base / 2));
          expect(d).toBeLessThanOrEqual(base);
        },
      ),
    );
  });
  it("a dead-letter copy keeps key, value and headers and adds the one DLQ scheme", () => {
    const msg = { topic: "t", partition: 2, offset: "7", key: null, value: null, headers: { h: "1" } };
    const copy = deadLetterMessage(
      msg,
      { error: new RangeError("x".repeat(5_000)), attempts: 3, consumer: "g" },
      42,
    );
    expect(copy.key).toBe("");
    expect(copy.value.length).toBe(0);
    expect(copy.headers).toMatchObject({
      h: "1",
      [DLQ_HEADERS.errorClass]: "RangeError",
      [DLQ_HEADERS.errorCode]: "INTERNAL",
      [DLQ_HEADERS.sourceTopic]: "t",
      [DLQ_HEADERS.sourcePartition]: "2",
      [DLQ_HEADERS.sourceOffset]: "7",
      [DLQ_HEADERS.consumer]: "g",
      [DLQ_HEADERS.attempts]: "3",
      [DLQ_HEADERS.atMs]: "42",
    });
    expect(copy.headers?.[DLQ_HEADERS.reason]).toHaveLength(2_000);
  });
  it("headers become strings", () => {
    expect(headersToStrings({ a: Buffer.from("x"), b: "y", c: [Buffer.from("z")], d: undefined })).toEqual({
      a: "x",
      b: "y",
      c: "z",
    });
  });
});
