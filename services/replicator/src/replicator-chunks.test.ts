import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { chunkBySize, DEFAULT_CHUNK_LIMITS, estimateRecordBytes } from "./replicator-chunks.js";

describe("chunkBySize", () => {
  it("splits the post-partition burst (1,177 messages of ~1 KB) into requests under 1 MiB", () => {
    const records = Array.from({ length: 1177 }, (_, i) => ({
      key: `px:k${i % 20}`,
      value: Buffer.alloc(900, 1),
      headers: { "meridian-origin-region": "us-east", "meridian-source": `t/0/${i}` },
    }));
    const chunks = chunkBySize(records, estimateRecordBytes, DEFAULT_CHUNK_LIMITS);
    expect(chunks.length).toBeGreaterThan(1);
    for (const c of chunks) {
      expect(c.length).toBeLessThanOrEqual(500);
      const bytes = c.reduce((n, r) => n + estimateRecordBytes(r), 0);
      expect(bytes).toBeLessThanOrEqual(900_000);
      expect(bytes).toBeLessThan(1024 * 1024);
    }
    expect(chunks.flat()).toEqual(records);
  });

  it("bounds count and bytes, keeps order and loses nothing (property)", () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 1, max: 2_000 }), { maxLength: 400 }),
        fc.integer({ min: 1, max: 50 }),
        fc.integer({ min: 1, max: 5_000 }),
        (sizes, maxCount, maxBytes) => {
          const items = sizes.map((size, index) => ({ index, size }));
          const chunks = chunkBySize(items, (x) => x.size, { maxCount, maxBytes });
          // Order and completeness: concatenating the chunks gives the input back.
          expect(chunks.flat()).toEqual(items);
          for (const c of chunks) {
            expect(c.length).toBeGreaterThan(0);
            expect(c.length).toBeLessThanOrEqual(maxCount);
            // Only a single item that alone exceeds the byte bound may make a chunk exceed it.
            const bytes = c.reduce((n, x) => n + x.size, 0);
            if (c.length > 1) expect(bytes).toBeLessThanOrEqual(maxBytes);
          }
          // Greedy: a chunk is cut only when the next item would break a bound.
          for (let i = 0; i + 1 < chunks.length; i++) {
            const c = chunks[i]!;
            const next = chunks[i + 1]![0]!;
            const bytes = c.reduce((n, x) => n + x.size, 0);
            expect(c.length === maxCount || bytes + next.size > maxBytes).toBe(true);
          }
        },
      ),
    );
  });

  it("gives an item larger than the byte bound a chunk of its own", () => {
    const chunks = chunkBySize([10, 5_000, 10], (x) => x, { maxCount: 10, maxBytes: 100 });
    expect(chunks).toEqual([[10], [5_000], [10]]);
  });

  it("rejects non-positive limits", () => {
    expect(() => chunkBySize([1], (x) => x, { maxCount: 0, maxBytes: 10 })).toThrow(RangeError);
  });

  it("estimates at least the raw key, value and header bytes", () => {
    const r = { key: "ключ", value: Buffer.alloc(100), headers: { h: "v" } };
    expect(estimateRecordBytes(r)).toBeGreaterThanOrEqual(Buffer.byteLength("ключ") + 100 + 2);
  });
});
