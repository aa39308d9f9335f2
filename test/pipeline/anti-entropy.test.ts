// The cluster runs anti-entropy across the regions' Redis: an entry deleted from one region, with no
// new write to carry it again, is repaired from the others within a few rounds; and its rounds collect
// the OR-set tombstones every region has seen.
import { type Cluster, startCluster, stateFingerprint } from "@meridian/cluster";
import type { ORSet } from "@meridian/core";
import { readEntry } from "@meridian/eventual";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { mustPut, sleep, stopAndPurge, uniqueNamespace } from "../support/pipeline.js";

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

  afterAll(() => stopAndPurge(cluster));

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

  it("collects an OR-set tombstone once every region has seen the remove", async () => {
    const key = "watch:gc-me";
    const [east, west] = [cluster.regions["us-east"]!, cluster.regions["eu-west"]!];
    for (const element of ["a", "b"]) await mustPut(east.url, key, { op: "add", element });
    await cluster.waitForConvergence([key], 10_000);
    await mustPut(west.url, key, { op: "remove", element: "a" });
    const prefix = cluster.layout.keyPrefix;
    const sets = () =>
      Promise.all(
        Object.values(cluster.regions).map(
          async (r) => (await readEntry(r.redis, prefix, key))?.crdt as ORSet<unknown>,
        ),
      );
    const deadline = Date.now() + 15_000;
    // Until every copy lost its tombstone and the pass that wrote them finished (and counted).
    const collected = () => cluster.antiEntropy?.collector?.stats.tombstonesCollected ?? 0;
    const pending = async () =>
      (await sets()).some((s) => !s || s.tagCount().removes > 0) || collected() === 0;
    while ((await pending()) && Date.now() < deadline) await sleep(200);
    for (const s of await sets()) {
      expect(s.value()).toEqual(["b"]);
      expect(s.tagCount()).toEqual({ adds: 1, removes: 0 });
    }
    expect(collected()).toBeGreaterThan(0);
  });
});
