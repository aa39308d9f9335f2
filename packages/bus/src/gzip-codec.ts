// GZIP for kafkajs without a thread-pool round trip per record batch. kafkajs' own codec calls zlib's
// asynchronous functions, and it decodes a fetch's record batches one after another: each batch goes to
// libuv's thread pool and resumes on a later event-loop turn. In a busy process a turn takes milliseconds,
// so a fetch holding a few hundred small batches took seconds to hand over (measured: the replicator's
// intake fetched every 1–5 s at 1,500 writes/s while each Fetch request itself took ~100 ms). The
// synchronous zlib calls do the same work inline, and a fetch is decoded within one turn.
//
// Compression runs at zlib's fastest level: on a batch of 256 Avro cache updates (37 KB) it took 109 µs
// instead of 356 µs at the default level, for 6.5× instead of 7.0× smaller — the producer's CPU is the
// scarcer resource here, and the bytes saved between the two levels are a few percent.
import { constants, gzipSync, unzipSync } from "node:zlib";
// A default import: Node's ESM loader does not see CompressionCodecs among kafkajs' CommonJS exports.
import kafkajs from "kafkajs";

const { CompressionCodecs, CompressionTypes } = kafkajs;

/**
 * Bound on one record batch once decompressed. Meridian's producers send at most a few hundred KB per
 * batch and the broker takes at most 1 MiB compressed (message.max.bytes); a batch inflating past this is
 * a compression bomb, refused with an error before it fills memory or holds the event loop.
 */
export const MAX_DECOMPRESSED_BATCH_BYTES = 64 * 2 ** 20;

let installed = false;

/** Replaces kafkajs' GZIP codec (a process-wide registry) with the synchronous one; idempotent. */
export function installSyncGzipCodec(): void {
  if (installed) return;
  installed = true;
  CompressionCodecs[CompressionTypes.GZIP] = () => ({
    compress: async (encoder: { buffer: Buffer }) =>
      gzipSync(encoder.buffer, { level: constants.Z_BEST_SPEED }),
    decompress: async (buffer: Buffer) =>
      unzipSync(buffer, { maxOutputLength: MAX_DECOMPRESSED_BATCH_BYTES }),
  });
}
