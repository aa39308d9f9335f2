// The synchronous GZIP codec: same bytes out as zlib, reads what kafkajs' own codec wrote, and decodes a
// run of record batches without giving up the event-loop turn (kafkajs' codec gives it up once per batch).
import { gunzipSync, gzipSync } from "node:zlib";
import fc from "fast-check";
import kafkajs from "kafkajs";
import { describe, expect, it } from "vitest";
import { installSyncGzipCodec, MAX_DECOMPRESSED_BATCH_BYTES } from "./gzip-codec.js";

const { CompressionCodecs, CompressionTypes } = kafkajs;
type Codec = {
  compress(encoder: { buffer: Buffer }): Promise<Buffer>;
  decompress(buffer: Buffer): Promise<Buffer>;
};
const kafkajsCodec: Codec = CompressionCodecs[CompressionTypes.GZIP]();
installSyncGzipCodec();
const codec: Codec = CompressionCodecs[CompressionTypes.GZIP]();

/** Decompresses `batches` one after another as kafkajs' record-batch decoder does; true if a turn passed. */
async function yieldsWhileDecoding(c: Codec, batches: Buffer[]): Promise<boolean> {
  let turned = false;
  const immediate = setImmediate(() => {
    turned = true;
  });
  for (const b of batches) await c.decompress(b);
  clearImmediate(immediate);
  return turned;
}

describe("synchronous GZIP codec for kafkajs", () => {
  it("round-trips any bytes, writes standard gzip and reads kafkajs' own output", async () => {
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ maxLength: 4096 }), async (bytes) => {
        const buffer = Buffer.from(bytes);
        const packed = await codec.compress({ buffer });
        expect(gunzipSync(packed).equals(buffer)).toBe(true);
        expect((await codec.decompress(packed)).equals(buffer)).toBe(true);
        const theirs = await kafkajsCodec.compress({ buffer });
        expect((await codec.decompress(theirs)).equals(buffer)).toBe(true);
      }),
      { numRuns: 200 },
    );
  });

  it("rejects corrupt input with an error (as the asynchronous codec does)", async () => {
    await expect(codec.decompress(Buffer.from("not gzip at all"))).rejects.toThrow();
  });

  it("refuses a batch that inflates past the bound (a compression bomb), reads one just under it", async () => {
    const bomb = gzipSync(Buffer.alloc(MAX_DECOMPRESSED_BATCH_BYTES + 1));
    expect(bomb.length).toBeLessThan(1 << 20); // fits in one broker message
    await expect(codec.decompress(bomb)).rejects.toThrow(RangeError);
    const largest = await codec.decompress(gzipSync(Buffer.alloc(MAX_DECOMPRESSED_BATCH_BYTES)));
    expect(largest.length).toBe(MAX_DECOMPRESSED_BATCH_BYTES);
  });

  it("decodes a fetch's worth of batches within one event-loop turn; kafkajs' codec yields per batch", async () => {
    const batches = Array.from({ length: 200 }, (_, i) => gzipSync(Buffer.alloc(2_000, i)));
    expect(await yieldsWhileDecoding(kafkajsCodec, batches)).toBe(true);
    expect(await yieldsWhileDecoding(codec, batches)).toBe(false);
  });
});
