// Kafka topic names of Meridian, with an optional namespace prefix so test runs never share topics.
import { InvalidInputError } from "@meridian/core";
import type { Kafka } from "kafkajs";

export interface TopicNames {
  /** A region's own updates, produced by its nodes. */
  updates(region: string): string;
  /** Other regions' updates for this region, produced by the replicator. */
  inbound(region: string): string;
  invalidations(region: string): string;
  marketTicks: string;
  deadLetter: string;
}

// Kafka's legal topic characters; checked so a bad region or namespace fails here, not at the broker.
const LEGAL = /^[a-zA-Z0-9._-]+$/;

function part(kind: string, value: string): string {
  if (!LEGAL.test(value))
    throw new InvalidInputError(`${kind} '${value}' is not usable in a Kafka topic name`);
  return value;
}

export function topicsFor(namespace?: string): TopicNames {
  const prefix = namespace ? `${part("namespace", namespace)}.` : "";
  return {
    updates: (region) => `${prefix}meridian.${part("region", region)}.updates`,
    inbound: (region) => `${prefix}meridian.${part("region", region)}.inbound`,
    invalidations: (region) => `${prefix}meridian.${part("region", region)}.invalidations`,
    marketTicks: `${prefix}meridian.market.ticks`,
    deadLetter: `${prefix}meridian.dead-letter`,
  };
}

export const topics: TopicNames = topicsFor();

export interface EnsureTopicsOptions {
  partitions?: number;
  /** Default -1: the broker's default.replication.factor. */
  replicationFactor?: number;
  configEntries?: { name: string; value: string }[];
}

/** Creates the topics that do not exist yet (idempotent; safe if another process creates them concurrently). */
export async function ensureTopics(
  kafka: Kafka,
  names: string[],
  opts: EnsureTopicsOptions = {},
): Promise<string[]> {
  for (const name of names) {
    if (!LEGAL.test(name) || name.length > 249) throw new InvalidInputError(`invalid topic name '${name}'`);
  }
  const admin = kafka.admin();
  await admin.connect();
  try {
    const existing = new Set(await admin.listTopics());
    const missing = [...new Set(names)].filter((n) => !existing.has(n));
    if (missing.length > 0) {
      // Returns false instead of failing when a concurrent creator won the race.
      await admin.createTopics({
        waitForLeaders: true,
        topics: missing.map((topic) => ({
          topic,
          numPartitions: opts.partitions ?? 3,
          replicationFactor: opts.replicationFactor ?? -1,
          ...(opts.configEntries ? { configEntries: opts.configEntries } : {}),
        })),
      });
    }
    return missing;
  } finally {
    await admin.disconnect();
  }
}
