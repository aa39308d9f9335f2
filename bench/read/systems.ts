// The read paths compared by bench/read: the Meridian client per class, lru-cache (read-through over
// ioredis on a miss), BentoCache (memory L1 + Redis L2 + Redis bus), bare ioredis GET. Each `open` gives
// a reader with an empty L1 warmed with the hot keys only, so every cold key read is a real L1 miss.
import { createMeridianClient, type MeridianClient } from "@meridian/client";
import { configFromEnv, type DataClass, REGIONS, type Region } from "@meridian/core";
import { deleteKeysWithPrefix } from "@meridian/store";
import { connectRegionRedis } from "@meridian/strong";
import { BentoCache, bentostore } from "bentocache";
import { memoryDriver } from "bentocache/drivers/memory";
import { redisBusDriver, redisDriver } from "bentocache/drivers/redis";
import { Redis } from "ioredis";
import { LRUCache } from "lru-cache";
import type pg from "pg";

export interface Reader {
  get(key: string): Promise<unknown>;
  close(): Promise<void>;
}

export interface System {
  name: string;
  /** Meridian's data class, for the ratio table. */
  cls?: DataClass;
  /** Whether the hit ratio applies (false: every read goes to Redis). */
  cached: boolean;
  /** Write every key (hot and cold) into L2 once. */
  prepare(keys: string[], value: unknown): Promise<void>;
  open(hotKeys: string[]): Promise<Reader>;
}

const cfg = configFromEnv();
const REGION: Region = "us-east";
const L1_ENTRIES = 1_000_000;

async function inChunks<T>(items: T[], n: number, fn: (t: T) => Promise<unknown>): Promise<void> {
  for (let i = 0; i < items.length; i += n) await Promise.all(items.slice(i, i + n).map(fn));
}

async function warm(r: Reader, hot: string[]): Promise<Reader> {
  await inChunks(hot, 64, (k) => r.get(k));
  return r;
}

export function systems(prefix: string, pool: pg.Pool) {
  const regions = connectRegionRedis(cfg.redisUrl);
  const plain = new Redis(cfg.redisUrl, { db: 15 });
  const opened: (() => Promise<unknown>)[] = [];
  const noPublish = { publish: async () => {} };
  const meridian = (cls: DataClass) =>
    createMeridianClient({
      region: REGION,
      regionsRedis: regions,
      critical: { pg: pool, keyPrefix: `${prefix}strong:` },
      important: { keyPrefix: `${prefix}ev:`, publisher: noPublish },
      // The bench's hit ratios are steady over a whole run: copies live a minute (default 500 ms).
      cacheable: { keyPrefix: `${prefix}weak:`, l1TtlMs: 60_000, ttlMs: 600_000, maxTtlMs: 600_000 },
      l1: { [cls]: { maxEntries: L1_ENTRIES, maxBytes: 1 << 30 } },
    });
  const meridianSystem = (cls: DataClass): System => ({
    name: `Meridian client ${cls}`,
    cls,
    cached: true,
    async prepare(keys, value) {
      const c = await meridian(cls);
      if (cls === "critical") {
        // L2 copies (a steady state where PostgreSQL is behind the regional cache): set-if-newer in Redis.
        await inChunks(keys, 256, (k) => c.strong!.setLocalIfNewer(k, value, 1));
      } else await inChunks(keys, 64, (k) => c.set(cls, k, value, { ttlMs: 600_000 }));
      await c.close();
    },
    async open(hot) {
      const c: MeridianClient = await meridian(cls);
      return warm({ get: (k) => c.get(cls, k), close: () => c.close() }, hot);
    },
  });
  const bento = () =>
    new BentoCache({
      default: "cache",
      stores: {
        cache: bentostore()
          // Default serialize: true (serialize: false fails on L2 reads in bentocache 1.6.1).
          .useL1Layer(memoryDriver({ maxItems: L1_ENTRIES }))
          .useL2Layer(
            redisDriver({ connection: { host: hostOf(), port: portOf(), db: 15 }, prefix: `${prefix}bento` }),
          )
          .useBus(redisBusDriver({ connection: { host: hostOf(), port: portOf(), db: 15 } })),
      },
    });
  const list: System[] = [
    meridianSystem("critical"),
    meridianSystem("important"),
    meridianSystem("cacheable"),
    {
      name: "lru-cache (+ ioredis on miss)",
      cached: true,
      async prepare(keys, value) {
        await inChunks(keys, 256, (k) => plain.set(`${prefix}lru:${k}`, JSON.stringify(value)));
      },
      async open(hot) {
        const lru = new LRUCache<string, object>({ max: L1_ENTRIES });
        const get = async (k: string) => {
          const v = lru.get(k);
          if (v !== undefined) return v;
          const raw = await plain.get(`${prefix}lru:${k}`);
          const parsed = raw === null ? {} : (JSON.parse(raw) as object);
          lru.set(k, parsed);
          return parsed;
        };
        return warm({ get, close: async () => {} }, hot);
      },
    },
    {
      name: "BentoCache (memory + Redis + bus)",
      cached: true,
      async prepare(keys, value) {
        const b = bento();
        await inChunks(keys, 64, (k) => b.set({ key: k, value, ttl: "10m" }));
        await b.disconnectAll();
      },
      async open(hot) {
        const b = bento();
        return warm({ get: (k) => b.get({ key: k }), close: () => b.disconnectAll() }, hot);
      },
    },
    {
      name: "ioredis GET (bare)",
      cached: false,
      async prepare(keys, value) {
        await inChunks(keys, 256, (k) => plain.set(`${prefix}raw:${k}`, JSON.stringify(value)));
      },
      async open() {
        return { get: (k) => plain.get(`${prefix}raw:${k}`), close: async () => {} };
      },
    },
  ];
  return {
    list,
    async cleanup() {
      for (const close of opened) await close();
      for (const r of [...REGIONS.map((x) => regions[x]), plain]) {
        await deleteKeysWithPrefix(r, prefix);
        r.disconnect();
      }
    },
  };
}

function hostOf(): string {
  return new URL(cfg.redisUrl).hostname;
}
function portOf(): number {
  return Number(new URL(cfg.redisUrl).port || 6379);
}
