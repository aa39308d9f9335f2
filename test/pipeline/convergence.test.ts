// concurrent writes to the same keys in all five regions, through the region
// nodes' HTTP API → every region holds the same CRDT state within 5 s of the last write. Reports
// p50/p99/max convergence per key (from the last write's acknowledgement to the first poll that saw all
// five Redis copies equal) and fails above 5 s. Market data flows in the background throughout.
import { type Cluster, startCluster } from "@meridian/cluster";
import { marketDataKey } from "@meridian/region-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  get,
  measureConvergence,
  mustPut,
  reportConvergence,
  sleep,
  stopAndPurge,
  uniqueNamespace,
} from "../support/pipeline.js";

const ROUNDS = 5;
const LWW = Array.from({ length: 5 }, (_, i) => `px:p${i}`);
const COUNTERS = Array.from({ length: 5 }, (_, i) => `pos:c${i}`);
const SETS = Array.from({ length: 5 }, (_, i) => `watch:s${i}`);
const MVS = Array.from({ length: 2 }, (_, i) => `mv:m${i}`);
const KEYS = [...LWW, ...COUNTERS, ...SETS, ...MVS];

describe("five-region convergence under concurrent writes", () => {
  let cluster: Cluster;

  beforeAll(async () => {
    cluster = await startCluster({
      namespace: uniqueNamespace("conv"),
      marketData: { symbols: 10, ticksPerSecond: 20 },
      critical: false,
    });
  });

  afterAll(() => stopAndPurge(cluster));

  it("all five regions hold the same CRDT state within 5 s of the last write, nothing lost", async () => {
    const regions = cluster.layout.regions;
    const expectedCount = new Map(COUNTERS.map((k) => [k, 0]));
    const expectedSet = new Map(SETS.map((k) => [k, new Set<string>()]));
    const lastAck = new Map<string, number>();
    let writes = 0;
    const ack = (key: string) => {
      writes += 1;
      lastAck.set(key, Math.max(lastAck.get(key) ?? 0, Date.now()));
    };

    for (let round = 0; round < ROUNDS; round++) {
      // Every region writes every key at the same time: the same keys concurrently in five regions.
      await Promise.all(
        regions.map(async (region, ri) => {
          const url = cluster.regions[region]!.url;
          await Promise.all([
            ...LWW.map(async (k) => {
              await mustPut(url, k, { value: { region, round } });
              ack(k);
            }),
            ...COUNTERS.map(async (k) => {
              const decrement = ri === 0 && round % 2 === 1;
              const by = decrement ? 2 : ri + 1;
              await mustPut(url, k, { op: decrement ? "decrement" : "increment", by });
              expectedCount.set(k, expectedCount.get(k)! + (decrement ? -by : by));
              ack(k);
            }),
            ...SETS.map(async (k) => {
              const element = `${region}#${round}`;
              await mustPut(url, k, { op: "add", element });
              expectedSet.get(k)!.add(element);
              if (ri === 1 && round >= 2) {
                const old = `${region}#${round - 2}`;
                await mustPut(url, k, { op: "remove", element: old });
                expectedSet.get(k)!.delete(old);
                writes += 1;
              }
              ack(k);
            }),
            ...MVS.map(async (k) => {
              await mustPut(url, k, { value: `${region}@${round}` });
              ack(k);
            }),
          ]);
        }),
      );
    }

    const perKey = await measureConvergence(cluster, KEYS, (k) => lastAck.get(k)!, 15_000);
    const summary = reportConvergence("concurrent-writes", perKey.values(), {
      regions: regions.length,
      writes,
      perRegionLag: cluster.convergence(),
    });
    expect(summary.count).toBe(KEYS.length);
    expect(summary.maxMs).toBeLessThanOrEqual(5000);

    // Same state is not enough: it must be the right state, read through every region's HTTP API.
    for (const region of regions) {
      const url = cluster.regions[region]!.url;
      for (const k of COUNTERS)
        expect((await get(url, "important", k)).body.value, `${k}@${region}`).toBe(expectedCount.get(k));
      for (const k of SETS) {
        const value = (await get(url, "important", k)).body.value as string[];
        expect([...value].sort(), `${k}@${region}`).toEqual([...expectedSet.get(k)!].sort());
      }
    }
    for (const k of [...LWW, ...MVS]) {
      const values = await Promise.all(
        regions.map(async (r) => (await get(cluster.regions[r]!.url, "important", k)).body.value),
      );
      for (const v of values) expect(v).toEqual(values[0]);
    }
  });

  it("market ticks are cached as important data in every region", async () => {
    const key = marketDataKey(cluster.marketData!.symbols[0]!);
    const deadline = Date.now() + 10_000;
    let found: number[] = [];
    while (Date.now() < deadline) {
      found = await Promise.all(
        cluster.layout.regions.map(
          async (r) => (await get(cluster.regions[r]!.url, "important", key)).status,
        ),
      );
      if (found.every((s) => s === 200)) break;
      await sleep(100);
    }
    expect(found).toEqual(cluster.layout.regions.map(() => 200));
    const tick = (await get(cluster.regions[cluster.layout.regions[2]!]!.url, "important", key)).body.value;
    expect(tick).toMatchObject({ symbol: cluster.marketData!.symbols[0] });
    expect(tick.bid).toBeLessThanOrEqual(tick.ask);
  });
});
