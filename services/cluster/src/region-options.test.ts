import { InvalidInputError } from "@meridian/core";
import { describe, expect, it } from "vitest";
import { startCluster } from "./cluster.js";
import { startProcessCluster } from "./processes.js";

// Refused before anything starts: no server is contacted.
describe("launcher options that name regions", () => {
  it("refuse a region the layout does not know, naming the known ones", async () => {
    const regions = ["us-east", "eu-west"];
    const refusals = [
      startCluster({ regions, externalConsumers: ["mars"] }),
      startCluster({ regions, marketData: { homeRegion: "ap-south" } }),
      startCluster({ regions, redisUrls: { "ap-south": "redis://127.0.0.1:1" } }),
      startCluster({ regions, childProcesses: { nodes: ["mars"] } }),
      startCluster({ regions, childProcesses: { consumers: ["us-west"] } }),
      startProcessCluster({ regions, marketData: { homeRegion: "mars" } }),
    ];
    for (const refusal of refusals) {
      const err = await refusal.then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(InvalidInputError);
      expect((err as InvalidInputError).details.regions).toEqual(regions);
    }
  });

  it("refuse child processes with the WAN layer, whose proxies a child's hops would bypass", async () => {
    const refusal = startCluster({ wan: true, childProcesses: { consumers: ["us-east"] } });
    await expect(refusal).rejects.toBeInstanceOf(InvalidInputError);
    await expect(refusal).rejects.toThrow(/WAN/);
  });
});
