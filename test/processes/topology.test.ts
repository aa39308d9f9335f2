// The processes topology (startProcessCluster): five region-node processes, five invalidation-consumer
// processes, the replicator and the market-data producer as separate OS processes, and one private
// redis-server per region. Writes in every region converge in every region's own Redis; a critical write
// invalidates the copies held by the other regions' servers; killing one region's Redis is a failure of
// that region alone.
import { type ProcessCluster, startProcessCluster } from "@meridian/cluster";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { get, put, uniqueNamespace } from "../pipeline/helpers.js";

let cluster: ProcessCluster;

beforeAll(async () => {
  cluster = await startProcessCluster({
    namespace: uniqueNamespace("procs"),
    marketData: { symbols: 3, ticksPerSecond: 5 },
    latencyMs: 20,
  });
}, 240_000);

afterAll(async () => {
  await cluster?.stop();
}, 60_000);

const health = async (url: string) =>
  (await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(10_000) })).status;

describe("the processes topology", () => {
  it("runs every region node and consumer as its own process, each region on its own redis-server", () => {
    const regions = Object.values(cluster.regions);
    expect(regions).toHaveLength(5);
    const pids = regions.flatMap((r) => [r.node.pid, r.consumer!.pid, r.redisServer.pid]);
    pids.push(cluster.replicator.pid, cluster.marketData!.pid, process.pid);
    expect(new Set(pids).size).toBe(pids.length);
    expect(new Set(regions.map((r) => r.redisServer.port)).size).toBe(5);
  });

  it("converges writes from every region in every region's own Redis", async () => {
    const keys = ["pos:P1", "pos:P2", "watch:P"];
    for (let round = 0; round < 4; round++) {
      await Promise.all(
        cluster.layout.regions.map(async (region, i) => {
          const url = cluster.regions[region]!.url;
          expect(
            (await put(url, "important", keys[(round + i) % 2]!, { op: "increment", by: 1 })).status,
          ).toBe(200);
          expect(
            (await put(url, "important", "watch:P", { op: "add", element: `${region}-${round}` })).status,
          ).toBe(200);
        }),
      );
    }
    await cluster.waitForConvergence(keys, 20_000);
    for (const region of cluster.layout.regions) {
      const sum = (await get(cluster.regions[region]!.url, "important", "pos:P1")).body.value;
      const sum2 = (await get(cluster.regions[region]!.url, "important", "pos:P2")).body.value;
      expect(sum + sum2).toBe(20);
    }
  });

  it("a critical write invalidates every other region's copy on its own server", async () => {
    const [a, b] = ["us-east", "ap-northeast"].map((r) => cluster.regions[r]!.url) as [string, string];
    expect((await put(a, "critical", "acct:P", { value: { balance: 1 } })).status).toBe(200);
    expect((await get(b, "critical", "acct:P")).body.value).toEqual({ balance: 1 }); // cached in b's Redis now
    expect((await put(a, "critical", "acct:P", { value: { balance: 2 } })).status).toBe(200);
    expect((await get(b, "critical", "acct:P")).body.value).toEqual({ balance: 2 });
  });

  it("killing one region's Redis fails that region alone", async () => {
    const victim = cluster.regions["eu-west"]!;
    victim.redisServer.kill("SIGKILL");
    await new Promise((r) => setTimeout(r, 500));
    expect(await health(victim.url)).toBe(503);
    for (const region of cluster.layout.regions.filter((r) => r !== "eu-west")) {
      const url = cluster.regions[region]!.url;
      expect(await health(url)).toBe(200);
      expect((await put(url, "important", "pos:AFTER", { op: "increment", by: 1 })).status).toBe(200);
    }
  });
});
