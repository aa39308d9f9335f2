// Redis key layout of one region's eventual entries (all under the region's keyPrefix):
//   <p>e:<key>      hash { rev, entry (JSON), digest, syncedAt }    the entry; `rev` (random per write) drives the CAS
//   <p>h:<key>      list of overridden states, newest first           rollback window (LTRIM + PEXPIRE)
//   <p>b:<bucket>   hash { key -> highest own-region counter seen }   bucket index for anti-entropy, and
//                                                                     the own counter survives a deleted entry
//   <p>v            hash { bucket -> ms }                              when anti-entropy last found the bucket equal everywhere

/** Index buckets a key is filed under; fixed so writers and anti-entropy always agree. */
export const INDEX_BUCKETS = 256;

export const entryKey = (prefix: string, key: string): string => `${prefix}e:${key}`;
export const historyKey = (prefix: string, key: string): string => `${prefix}h:${key}`;
export const bucketKey = (prefix: string, bucket: number): string => `${prefix}b:${bucket}`;
export const verifiedKey = (prefix: string): string => `${prefix}v`;

/** FNV-1a 32-bit of the key's UTF-16 code units, mod INDEX_BUCKETS. Stable across processes. */
export function bucketOf(key: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) {
    h ^= key.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h % INDEX_BUCKETS;
}

export const MAX_KEY_LENGTH = 1024;
