// Where a region's invalidation consumer reads the other regions' updates. With the built-in replicator
// (one Kafka cluster) it is the region's `inbound` topic; with Kafka MirrorMaker 2 (one cluster per region)
// it is MM2's remote copy of every other region's updates topic on this region's own cluster.
import { topicsFor } from "@meridian/bus";
import { InvalidInputError } from "@meridian/core";
import type { RegionLayout } from "@meridian/service-kit";

export type ReplicationMode = "replicator" | "mirrormaker";

/** `MERIDIAN_REPLICATION`: unset or `replicator` (default), or `mirrormaker`. */
export function parseReplicationMode(raw: string | undefined): ReplicationMode {
  if (raw === undefined || raw === "" || raw === "replicator") return "replicator";
  if (raw === "mirrormaker") return "mirrormaker";
  throw new InvalidInputError(`MERIDIAN_REPLICATION must be "replicator" or "mirrormaker", got "${raw}"`, {
    field: "MERIDIAN_REPLICATION",
  });
}

/**
 * MM2's remote topics of the other regions' updates, as its DefaultReplicationPolicy names them:
 * `<source cluster alias>.<topic>`, the alias being the source region's name.
 */
export function remoteUpdateTopics(layout: RegionLayout, region: string): string[] {
  const topics = topicsFor(layout.namespace);
  return layout.regions.filter((r) => r !== region).map((r) => `${r}.${topics.updates(r)}`);
}

export function sourceTopics(layout: RegionLayout, region: string, mode: ReplicationMode): string[] {
  return mode === "mirrormaker"
    ? remoteUpdateTopics(layout, region)
    : [topicsFor(layout.namespace).inbound(region)];
}
