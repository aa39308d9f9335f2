// bench/gc: OR-set state size under add/remove churn, tombstone collection off vs on. Five regions on the
// one Redis (own key prefixes), replication of the published states with 20% of deliveries held back 1-3
// rounds; the collecting run makes one OrSetCollector pass every GC_EVERY rounds. Both runs make the same
// seeded choices. Printed: the largest stored entry of a key (bytes of its JSON) and MEMORY USAGE of the
// keys' entries + rollback history (summed over regions) after the first checkpoint and at the end, and
// the server's used_memory before/after (whole server: noisy while other work runs).
// Run: pnpm bench gc  (quick: pnpm bench --quick gc).
import { configFromEnv } from "@meridian/core";
import {
  type CacheUpdate,
  crdtPolicyByPrefix,
  EventualConsistencyCache,
  entryKey,
  OrSetCollector,
  type UpdatePublisher,
} from "@meridian/eventual";
import { deleteKeysWithPrefix } from "@meridian/store";
import { Redis } from "ioredis";
import { machineLine, markdownTable, QUICK, writeBenchmarksSection } from "../lib/report.js";
import { type ChurnRegion, churn, entryBytes } from "./churn.js";

const REGIONS = ["us-east", "us-west", "eu-west", "ap-south", "ap-northeast"];
const KEYS = ["watch:a", "watch:b", "watch:c", "watch:d"];
const ROUNDS = QUICK ? 40 : 200;
const OPS_PER_ROUND = 10;
const GC_EVERY = 4;
const run = Date.now().toString(36);
const config = configFromEnv();
const clients: Redis[] = [];

class Recording implements UpdatePublisher {
  readonly published: CacheUpdate[] = [];
  async publish(update: CacheUpdate): Promise<void> {
    this.published.push(update);
  }
}

function regions(label: string): ChurnRegion[] {
  return REGIONS.map((region) => {
    const redis = new Redis(config.redisUrl, { db: 5 });
    clients.push(redis);
    const keyPrefix = `mer-gc-bench-${run}-${label}:${region}:`;
    const publisher = new Recording();
    const cache = new EventualConsistencyCache(redis, publisher, {
      region,
      keyPrefix,
      crdtTypeFor: crdtPolicyByPrefix({ "watch:": "orset" }),
    });
    return { region, redis, keyPrefix, cache, published: publisher.published };
  });
}

const maxEntryBytes = async (rs: ChurnRegion[]) =>
  Math.max(...(await Promise.all(rs.flatMap((r) => KEYS.map((k) => entryBytes(r, k))))));

async function keysMemory(rs: ChurnRegion[]): Promise<number> {
  let total = 0;
  for (const r of rs) {
    for (const k of KEYS) {
      for (const redisKey of [entryKey(r.keyPrefix, k), `${r.keyPrefix}h:${k}`]) {
        total += Number((await r.redis.call("MEMORY", "USAGE", redisKey)) ?? 0);
      }
    }
  }
  return total;
}

async function usedMemory(redis: Redis): Promise<number> {
  const info = await redis.info("memory");
  return Number(/used_memory:(\d+)/.exec(info)?.[1] ?? Number.NaN);
}

interface Measured {
  variant: string;
  ops: number;
  bytesFirst: number;
  bytesEnd: number;
  memFirst: number;
  memEnd: number;
  usedDelta: number;
  collected: number;
  seconds: number;
}

async function measure(label: string, collect: boolean): Promise<Measured> {
  const rs = regions(label);
  const collector = collect
    ? new OrSetCollector(rs, { bucketsPerPass: 256, isOrSetKey: (k) => k.startsWith("watch:") })
    : undefined;
  const first: { bytes?: number; mem?: number } = {};
  const usedBefore = await usedMemory(rs[0]!.redis);
  const startedAt = performance.now();
  await churn(rs, {
    rounds: ROUNDS,
    opsPerRound: OPS_PER_ROUND,
    keys: KEYS,
    elements: 5,
    seed: 2026,
    holdBack: 0.2,
    gcEvery: GC_EVERY,
    ...(collector ? { collector } : {}),
    onCheckpoint: async () => {
      if (first.bytes !== undefined) return;
      first.bytes = await maxEntryBytes(rs);
      first.mem = await keysMemory(rs);
    },
  });
  await collector?.runOnce();
  const seconds = (performance.now() - startedAt) / 1000;
  const out: Measured = {
    variant: collect ? `collection on (pass every ${GC_EVERY} rounds)` : "collection off",
    ops: ROUNDS * OPS_PER_ROUND,
    bytesFirst: first.bytes ?? Number.NaN,
    bytesEnd: await maxEntryBytes(rs),
    memFirst: first.mem ?? Number.NaN,
    memEnd: await keysMemory(rs),
    usedDelta: (await usedMemory(rs[0]!.redis)) - usedBefore,
    collected: collector?.stats.tombstonesCollected ?? 0,
    seconds,
  };
  for (const r of rs) await deleteKeysWithPrefix(r.redis, r.keyPrefix);
  return out;
}

async function main(): Promise<void> {
  const machine = machineLine();
  const rows = [await measure("off", false), await measure("on", true)];
  const table = markdownTable(
    [
      "variant",
      "churn ops",
      `max entry B after ${GC_EVERY * OPS_PER_ROUND} ops`,
      "max entry B at end",
      "MEMORY USAGE B (entries+history) first",
      "… at end",
      "used_memory Δ B (server)",
      "tombstones collected",
      "s",
    ],
    rows.map((m) => [
      m.variant,
      m.ops,
      m.bytesFirst,
      m.bytesEnd,
      m.memFirst,
      m.memEnd,
      m.usedDelta,
      m.collected,
      m.seconds,
    ]),
  );
  console.log(`${machine}\n\n${table}`);
  writeBenchmarksSection(
    "gc",
    [
      "## gc — OR-set tombstone collection under churn",
      "",
      `${machine} · \`pnpm bench gc\` (${REGIONS.length} regions, ${KEYS.length} keys × 5 elements, 20% of deliveries 1-3 rounds late)`,
      "",
      table,
    ].join("\n"),
  );
}

try {
  await main();
} finally {
  for (const c of clients) c.disconnect();
}
