// A recorded multi-region workload on critical keys through @meridian/client: mostly reads (served from
// L1 when the node holds a lease), writes from every client, every call and return timed on one clock.
import type { ClientRead, MeridianClient } from "@meridian/client";
import { HistoryRecorder, type Json } from "@meridian/monitor";

export interface CriticalOps {
  get(key: string): Promise<ClientRead>;
  set(key: string, value: number): Promise<unknown>;
}

/** The production path: the client's own critical class. */
export const throughClient = (c: MeridianClient): CriticalOps => ({
  get: (key) => c.get("critical", key),
  set: (key, value) => c.set("critical", key, value),
});

export interface WorkloadOptions {
  clients: { name: string; ops: CriticalOps }[];
  keys: readonly string[];
  opsPerClient: number;
  writeRatio: number;
  seed?: number;
  /** Called once per client op index, e.g. to start a fault half way through; that client waits for a returned promise. */
  onProgress?: (done: number) => void | Promise<void>;
}

export async function runCriticalWorkload(o: WorkloadOptions) {
  const rec = new HistoryRecorder();
  let seed = o.seed ?? 42;
  const rand = () => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed / 0x7fffffff;
  };
  const counts = { reads: 0, l1Reads: 0, writes: 0, errors: 0 };
  const errors: string[] = [];
  let done = 0;
  await Promise.all(
    o.clients.map(async ({ name, ops }, c) => {
      for (let i = 0; i < o.opsPerClient; i++) {
        // Yield to I/O between operations: an L1 hit never does by itself.
        await new Promise((r) => setImmediate(r));
        await o.onProgress?.(done++);
        const key = o.keys[Math.floor(rand() * o.keys.length)]!;
        if (rand() < o.writeRatio) {
          const value = c * 1_000_000 + i;
          const id = rec.invoke(name, { type: "write", key, value });
          try {
            await ops.set(key, value);
            rec.ok(id, { type: "write" });
            counts.writes++;
          } catch (err) {
            rec.unknown(id); // may or may not have taken effect
            counts.errors++;
            errors.push(String(err));
          }
        } else {
          const id = rec.invoke(name, { type: "read", key });
          try {
            const r = await ops.get(key);
            rec.ok(id, { type: "read", value: r.value as Json | undefined });
            counts.reads++;
            if (r.source === "l1") counts.l1Reads++;
          } catch (err) {
            rec.discard(id); // a failed read had no effect
            counts.errors++;
            errors.push(String(err));
          }
        }
      }
    }),
  );
  return { history: rec.history(), counts, errors };
}
