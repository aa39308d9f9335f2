// Splits one destination's due messages into produce requests the broker accepts: Kafka rejects a request
// larger than message.max.bytes (default 1 MiB) and a rejected oversized batch would be retried forever.

export interface ChunkLimits {
  /** Most records in one produce request. */
  maxCount: number;
  /** Upper bound on the estimated encoded size of one produce request, in bytes. */
  maxBytes: number;
}

// 900 KB leaves headroom under the broker's 1 MiB default for batch framing the estimate does not see.
export const DEFAULT_CHUNK_LIMITS: ChunkLimits = { maxCount: 500, maxBytes: 900_000 };

// Per-record framing in a v2 record batch (length, attributes, varint deltas, header counts): at most a
// few dozen bytes; overestimated on purpose so the bound errs on the safe side.
const RECORD_OVERHEAD = 64;
const HEADER_OVERHEAD = 10;

export interface SizedRecord {
  key: string;
  value: Buffer;
  headers: Record<string, string>;
}

/** Conservative estimate of a record's encoded size in a produce request (uncompressed). */
export function estimateRecordBytes(r: SizedRecord): number {
  let n = RECORD_OVERHEAD + Buffer.byteLength(r.key, "utf8") + r.value.length;
  for (const [k, v] of Object.entries(r.headers)) {
    n += HEADER_OVERHEAD + Buffer.byteLength(k, "utf8") + Buffer.byteLength(v, "utf8");
  }
  return n;
}

/**
 * Cuts `items` into consecutive chunks of at most `maxCount` items and `maxBytes` estimated bytes, in the
 * input order (so sending the chunks one after another keeps every key's order). A single item larger
 * than `maxBytes` gets a chunk of its own: it cannot be split, and the broker's answer for it is final.
 */
export function chunkBySize<T>(items: readonly T[], sizeOf: (item: T) => number, limits: ChunkLimits): T[][] {
  if (!(limits.maxCount >= 1) || !(limits.maxBytes >= 1)) {
    throw new RangeError(`chunk limits must be positive (got ${JSON.stringify(limits)})`);
  }
  const chunks: T[][] = [];
  let current: T[] = [];
  let bytes = 0;
  for (const item of items) {
    const size = sizeOf(item);
    if (current.length > 0 && (current.length >= limits.maxCount || bytes + size > limits.maxBytes)) {
      chunks.push(current);
      current = [];
      bytes = 0;
    }
    current.push(item);
    bytes += size;
  }
  if (current.length > 0) chunks.push(current);
  return chunks;
}
