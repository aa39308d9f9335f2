// Kafka topic names of Meridian, with an optional namespace prefix so test runs never share topics.
import { BackendUnavailableError, InvalidInputError } from "@meridian/core";
import type { Admin, Kafka } from "kafkajs";

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
  /** How long to wait until every partition of the named topics has a serving leader (default 30 000 ms). */
  leaderTimeoutMs?: number;
}

/**
 * Creates the topics that do not exist yet (idempotent; safe if another process creates them concurrently)
 * and returns once every partition of every named topic has a leader that serves it, so a produce right
 * after succeeds. Returns the names it created.
 */
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
      // Returns false instead of failing when a concurrent creator won the race. kafkajs' own leader wait
      // throws on a KRaft broker's transient UNKNOWN_TOPIC_OR_PARTITION (tulios/kafkajs#1563); the bounded
      // poll below does that wait instead.
      await admin.createTopics({
        waitForLeaders: false,
        topics: missing.map((topic) => ({
          topic,
          numPartitions: opts.partitions ?? 3,
          replicationFactor: opts.replicationFactor ?? -1,
          ...(opts.configEntries ? { configEntries: opts.configEntries } : {}),
        })),
      });
    }
    // All names, not only the ones created here: a concurrent creator's topics may not be served yet either.
    await waitForLeaders(admin, [...new Set(names)], opts.leaderTimeoutMs ?? 30_000);
    return missing;
  } finally {
    await admin.disconnect();
  }
}

/**
 * Polls until every partition of `names` has a leader in fetched metadata and that leader serves it (a
 * ListOffsets answer). A KRaft broker briefly answers UNKNOWN_TOPIC_OR_PARTITION ("This server does not
 * host this topic-partition") right after creation even with createTopics({ waitForLeaders: true })
 * (tulios/kafkajs#1563), so a produce issued then would fail. Throws BackendUnavailableError on timeout.
 */
export async function waitForLeaders(admin: Admin, names: string[], timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let delay = 50;
  let last = "no metadata yet";
  for (;;) {
    try {
      const { topics } = await admin.fetchTopicMetadata({ topics: names });
      const notReady = names.filter((name) => {
        const t = topics.find((x) => x.name === name);
        return !t || t.partitions.length === 0 || t.partitions.some((p) => p.leader < 0);
      });
      if (notReady.length === 0) {
        // ListOffsets goes to each partition's leader and fails until the leader hosts the partition.
        for (const name of names) await admin.fetchTopicOffsets(name);
        return;
      }
      last = `no leader yet for partitions of ${notReady.join(", ")}`;
    } catch (err) {
      // UNKNOWN_TOPIC_OR_PARTITION / LEADER_NOT_AVAILABLE while the new topic propagates.
      last = err instanceof Error ? err.message : String(err);
    }
    if (Date.now() + delay > deadline) {
      throw new BackendUnavailableError(
        `topics ${names.join(", ")} have no leader for every partition after ${timeoutMs} ms: ${last}`,
      );
    }
    await new Promise((r) => setTimeout(r, delay));
    delay = Math.min(delay * 2, 500);
  }
}
