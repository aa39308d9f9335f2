// The monitor's probes wired to a running cluster (startCluster): per-key digests read from each region's
// Redis, Kafka consumer lag of each region's invalidation consumer, and the consumers' `applied` events as
// propagation measurements.
import { topicsFor } from "@meridian/bus";
import type { Cluster } from "@meridian/cluster";
import { stateFingerprint } from "@meridian/cluster";
import { type AnyCrdt, canonicalJson, crdtFromJSON, mergeCrdts } from "@meridian/core";
import type {
  ConsistencyMonitor,
  ConsumerLagSource,
  KeyDigests,
  RegionDigestSource,
  StateLattice,
} from "@meridian/monitor";
import type { Redis } from "@meridian/store";
import type { Admin } from "kafkajs";

/** The eventual keys the monitor compares across regions: every key a consumer applied, plus any added. */
export class KeyRegistry {
  private readonly keys = new Set<string>();
  constructor(private readonly max = 5000) {}
  add(key: string): void {
    if (this.keys.size < this.max) this.keys.add(key);
  }
  list(): string[] {
    return [...this.keys];
  }
}

/**
 * The CRDT lattice over digests that are canonical JSON of `{type, state}` (what stateFingerprint returns):
 * join = merge of all, a ≤ b when merging a into b changes nothing. Parsed states are cached by digest.
 */
export function crdtLattice(): StateLattice {
  const cache = new Map<string, AnyCrdt>();
  const parse = (d: string): AnyCrdt => {
    let c = cache.get(d);
    if (!c) {
      c = crdtFromJSON(d);
      if (cache.size > 20_000) cache.clear();
      cache.set(d, c);
    }
    return c;
  };
  const canon = (c: AnyCrdt) => canonicalJson(c.toJSON());
  return {
    join: (ds) => canon(ds.map(parse).reduce((a, b) => mergeCrdts(a, b))),
    leq: (a, b) => {
      const B = parse(b);
      return canon(mergeCrdts(parse(a), B)) === canon(B);
    },
  };
}

/** What the probes read of a running cluster: its layout and each region's Redis (any topology). */
export interface ProbedCluster {
  readonly layout: Cluster["layout"];
  readonly regions: Record<string, { readonly redis: Redis }>;
}

export function clusterDigestSource(cluster: ProbedCluster, keys: KeyRegistry): RegionDigestSource {
  return {
    regions: () => cluster.layout.regions,
    lattice: crdtLattice(),
    async snapshot(region: string): Promise<KeyDigests> {
      const handle = cluster.regions[region];
      const out = new Map<string, string>();
      if (!handle) return out;
      const list = keys.list();
      const states = await Promise.all(
        list.map((k) => stateFingerprint(handle.redis, cluster.layout.keyPrefix, k)),
      );
      list.forEach((k, i) => {
        const s = states[i];
        if (s !== null && s !== undefined) out.set(k, s);
      });
      return out;
    },
  };
}

/**
 * Lag of each region's invalidation consumer group on its inbound topic (end offset − committed), and
 * whether that region's consumer reports it cannot make progress (`stalled`; known only for consumers
 * running in this process, see consumersStalledIn).
 */
export function kafkaConsumerLag(
  admin: Admin,
  cluster: Pick<ProbedCluster, "layout">,
  stalled: (region: string) => boolean = () => false,
): ConsumerLagSource {
  const ns = cluster.layout.namespace;
  const topics = topicsFor(ns);
  return {
    async lag() {
      return Promise.all(
        cluster.layout.regions.map(async (region) => {
          const topic = topics.inbound(region);
          const groupId = `${ns ? `${ns}.` : ""}meridian.invalidation.${region}`;
          const [ends, committed] = await Promise.all([
            admin.fetchTopicOffsets(topic),
            admin.fetchOffsets({ groupId, topics: [topic] }),
          ]);
          const done = new Map(
            (committed[0]?.partitions ?? []).map((p) => [p.partition, Number(p.offset)] as [number, number]),
          );
          let lag = 0;
          for (const p of ends) {
            const end = Number(p.high);
            const at = done.get(p.partition) ?? -1;
            lag += Math.max(0, end - (at < 0 ? Number(p.low) : at));
          }
          return { region, group: groupId, lag, stalled: stalled(region) };
        }),
      );
    },
  };
}

/** `stalled` for kafkaConsumerLag from the consumers of a cluster running in this process. */
export function consumersStalledIn(cluster: Pick<Cluster, "regions">): (region: string) => boolean {
  return (region) => cluster.regions[region]?.consumer?.health().stalled ?? false;
}

/** Feeds the consumers' applied events to the monitor (propagation time per region pair) and the key list. */
export function followAppliedEvents(
  cluster: Cluster,
  monitor: ConsistencyMonitor,
  keys: KeyRegistry,
): () => void {
  const listener = (e: {
    region: string;
    key: string;
    originRegion: string;
    lagMs: number;
    atMs: number;
  }) => {
    keys.add(e.key);
    if (e.originRegion && e.originRegion !== e.region) {
      monitor.recordPropagation({ from: e.originRegion, to: e.region, lagMs: e.lagMs }, e.atMs);
    }
  };
  cluster.events.on("applied", listener);
  return () => cluster.events.off("applied", listener);
}
