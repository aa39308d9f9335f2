// The cluster runs anti-entropy across the regions' Redis: an entry deleted from one region, with no
// new write to carry it again, is repaired from the others within a few rounds.
import { type Cluster, startCluster, stateFingerprint } from "@meridian/cluster";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { mustPut, sleep, uniqueNamespace } from "../support/pipeline.js";

describe("cluster anti-entropy", () => {
  let cluster: Cluster;

  beforeAll(async () => {
    cluster = await startCluster({
      namespace: uniqueNamespace("ae"),
      marketData: false,
      critical: false,
      antiEntropy: { intervalMs: 1000 },
    });
  });

  afterAll(async () => {
    if (!cluster) return;
    await cluster.stop();
    await cluster.purge();
  });

  it("repairs a key deleted from one region's Redis without a new write", async () => {
    const key = "px:repair-me";
    await mustPut(cluster.regions["us-east"]!.url, key, { value: 42 });
    await cluster.waitForConvergence([key], 10_000);

    const west = cluster.regions["eu-west"]!;
    const prefix = cluster.layout.keyPrefix;
    expect(await west.redis.del(`${prefix}e:${key}`)).toBe(1);
    expect(await stateFingerprint(west.redis, prefix, key)).toBeNull();

    const deadline = Date.now() + 8000;
    while ((await stateFingerprint(west.redis, prefix, key)) === null && Date.now() < deadline)
      await sleep(100);
    expect(await stateFingerprint(west.redis, prefix, key)).not.toBeNull();
    expect((await cluster.compareStates([key])).converged).toBe(true);
    expect(cluster.antiEntropy?.stats.rounds).toBeGreaterThan(0);
  });
});
