import { resolveLayout } from "@meridian/service-kit";
import { describe, expect, it } from "vitest";
import { parseReplicationMode, remoteUpdateTopics, sourceTopics } from "./sources.js";

describe("consumer sources", () => {
  const layout = resolveLayout({ regions: ["us-east", "eu-west", "ap-south"], namespace: "t1" });

  it("reads the replicator's inbound topic by default", () => {
    expect(sourceTopics(layout, "eu-west", parseReplicationMode(undefined))).toEqual([
      "t1.meridian.eu-west.inbound",
    ]);
  });

  it("reads MM2's remote copy of every other region's updates, never its own", () => {
    expect(remoteUpdateTopics(layout, "eu-west")).toEqual([
      "us-east.t1.meridian.us-east.updates",
      "ap-south.t1.meridian.ap-south.updates",
    ]);
    expect(sourceTopics(layout, "us-east", "mirrormaker")).toEqual(remoteUpdateTopics(layout, "us-east"));
  });

  it("refuses an unknown mode with a typed error", () => {
    expect(() => parseReplicationMode("mm2")).toThrow(/MERIDIAN_REPLICATION/);
  });
});
