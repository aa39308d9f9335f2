// A recorded multi-region workload on a few hot keys: reads, writes (half under a lock, fenced), CAS and
// two-key transfers, with every
// invocation and response timed on one clock for the linearizability checker.
import { REGIONS } from "@meridian/core";
import { withLockOwner } from "@meridian/locks";
import { HistoryRecorder, type Json } from "@meridian/monitor";
import type { StrongConsistencyCache } from "@meridian/strong";

/** Transactions stay inside a pair, so the checker's partitions are the two pairs. */
export const PAIRS: [string, string][] = [
  ["acct:a", "acct:b"],
  ["acct:c", "acct:d"],
];
export const HOT_KEYS = PAIRS.flat();

export interface WorkloadOptions {
  clients: number;
  opsPerClient: number;
  cacheFor: (region: (typeof REGIONS)[number]) => StrongConsistencyCache;
  seed?: number;
  /** Stop each client early once this many ms have passed (the fault tests bound load by time). */
  durationMs?: number;
  /**
   * "full" (default): reads, writes, CAS and transfers on the two pairs. "sets": the group-commit load —
   * reads and sets (a tenth under a lock) spread over `setKeys`, nothing else.
   */
  mix?: "full" | "sets";
  /** Keys of the "sets" mix (default SET_KEYS). */
  setKeys?: readonly string[];
}

/** `n` keys for the "sets" mix. */
export const setKeys = (n: number) => Array.from({ length: n }, (_, i) => `set:${i}`);
/** Default keys of the "sets" mix: enough that a commit group holds several different keys. */
export const SET_KEYS = setKeys(8);

export async function runWorkload(o: WorkloadOptions) {
  const rec = new HistoryRecorder();
  let seed = o.seed ?? 42;
  const rand = () => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed / 0x7fffffff;
  };
  const errors: string[] = [];
  const counts = { read: 0, write: 0, lockedWrite: 0, cas: 0, txn: 0, errors: 0 };
  const keysOfSets = o.setKeys ?? SET_KEYS;
  const deadline = o.durationMs === undefined ? Number.POSITIVE_INFINITY : performance.now() + o.durationMs;
  const clients = Array.from({ length: o.clients }, (_, c) => {
    const region = REGIONS[c % REGIONS.length]!;
    const cache = o.cacheFor(region);
    const name = `${region}#${c}`;
    const lastSeen = new Map<string, number>();
    const read = async (key: string) => {
      const id = rec.invoke(name, { type: "read", key });
      try {
        const r = await cache.getWithStrongConsistency<number>(key);
        rec.ok(id, { type: "read", value: r.value as Json | undefined });
        if (r.value !== undefined) lastSeen.set(key, r.value);
        counts.read++;
      } catch (err) {
        rec.discard(id); // a failed read had no effect
        counts.errors++;
        errors.push(String(err));
      }
    };
    const write = async (key: string, value: number, locked: boolean) => {
      const id = rec.invoke(name, { type: "write", key, value });
      try {
        await cache.setWithStrongConsistency(key, value, locked ? `lock:${key}` : undefined);
        rec.ok(id, { type: "write" });
        counts.write++;
        if (locked) counts.lockedWrite++;
      } catch (err) {
        rec.unknown(id);
        counts.errors++;
        errors.push(String(err));
      }
    };
    // Each client is its own lock owner, also when clients share a cache (deadlock detection is per owner).
    return withLockOwner(`client-${c}`, async () => {
      for (let i = 0; i < o.opsPerClient && performance.now() < deadline; i++) {
        if (o.mix === "sets") {
          const key = keysOfSets[Math.floor(rand() * keysOfSets.length)]!;
          const roll = rand();
          if (roll < 0.5) await read(key);
          else await write(key, c * 100_000 + i, roll > 0.95);
          continue;
        }
        const pair = PAIRS[Math.floor(rand() * PAIRS.length)]!;
        const key = pair[Math.floor(rand() * 2)]!;
        const roll = rand();
        const unique = c * 100_000 + i;
        if (roll < 0.45) {
          await read(key);
        } else if (roll < 0.65) {
          // Half the writes go through a lock named after the key: fenced writes under contention.
          await write(key, unique, rand() < 0.5);
        } else if (roll < 0.8) {
          const expected = lastSeen.get(key) ?? 0;
          const id = rec.invoke(name, { type: "cas", key, expected, value: unique });
          try {
            const r = await cache.compareAndSet(key, expected, unique);
            rec.ok(id, { type: "cas", ok: r.ok });
            if (!r.ok && r.current !== undefined) lastSeen.set(key, r.current as number);
            counts.cas++;
          } catch (err) {
            rec.unknown(id);
            counts.errors++;
            errors.push(String(err));
          }
        } else {
          const [from, to] = rand() < 0.5 ? pair : [pair[1], pair[0]];
          const amount = 1 + Math.floor(rand() * 5);
          const id = rec.invoke(name, { type: "txn", keys: [from, to] });
          let reads: Record<string, Json | undefined> = {};
          let writes: Record<string, Json> = {};
          try {
            await cache.transaction([from, to], (tx) => {
              const a = tx.get<number>(from) ?? 0;
              const b = tx.get<number>(to) ?? 0;
              reads = { [from]: tx.get<number>(from), [to]: tx.get<number>(to) };
              writes = { [from]: a - amount, [to]: b + amount };
              tx.set(from, a - amount);
              tx.set(to, b + amount);
            });
            rec.ok(id, { type: "txn", reads, writes });
            counts.txn++;
          } catch (err) {
            rec.unknown(id);
            counts.errors++;
            errors.push(String(err));
          }
        }
      }
    });
  });
  const start = performance.now();
  await Promise.all(clients);
  return { history: rec.history(), counts, errors, elapsedMs: performance.now() - start };
}
