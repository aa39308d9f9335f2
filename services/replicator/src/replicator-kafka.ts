// The replicator's Kafka clients: topics, the health-check admin, one idempotent producer per destination
// region and the supervised consumer of every region's updates topic — connected and disconnected here.

import { createKafka, IdempotentProducer, SupervisedConsumer } from "@meridian/bus";
import type { MeridianConfig } from "@meridian/core";
import { ensureTopicsFor, kafkaHealthCheck, type Logger, type RegionLayout } from "@meridian/service-kit";
import type { Kafka } from "kafkajs";

export interface ReplicatorKafka {
  health: Awaited<ReturnType<typeof kafkaHealthCheck>>;
  /** Keyed by destination region. */
  producers: Map<string, IdempotentProducer>;
  supervisor: SupervisedConsumer;
}

export async function connectReplicatorKafka(
  opts: { config: MeridianConfig; kafka?: Kafka; groupId?: string },
  layout: RegionLayout,
  log: Logger,
): Promise<ReplicatorKafka> {
  const kafka = opts.kafka ?? createKafka(opts.config, `replicator-${layout.namespace ?? "default"}`);
  await ensureTopicsFor(kafka, layout);
  const health = await kafkaHealthCheck(kafka);
  // One producer per destination: an idempotent producer has one request in flight, so a single shared
  // one would serialize all twenty links; per destination, only the links into one region share it.
  const producers = new Map(layout.regions.map((r) => [r, new IdempotentProducer(kafka)]));
  await Promise.all([...producers.values()].map((p) => p.connect()));
  // Supervised: a crash kafkajs would not recover from replaces the consumer instead of ending replication.
  const supervisor = new SupervisedConsumer(kafka, {
    config: {
      groupId: opts.groupId ?? `${layout.namespace ? `${layout.namespace}.` : ""}meridian.replicator`,
      // Short session: after a crash the restarted replicator gets the partitions back in seconds.
      sessionTimeout: 6_000,
      heartbeatInterval: 1_000,
      // A rebalance waits this long for members that do not rejoin — e.g. a killed replicator (kafkajs'
      // default is 60 s). Taking a batch only queues it on the links, so members rejoin in milliseconds.
      rebalanceTimeout: 10_000,
    },
    logger: log,
  });
  return { health, producers, supervisor };
}

/** Consumer first, then the producers, then the admin; failures are logged, never thrown. */
export async function disconnectReplicatorKafka(k: ReplicatorKafka, log: Logger): Promise<void> {
  await k.supervisor.stop().catch((err) => log.warn({ err }, "consumer disconnect failed"));
  await Promise.all(
    [...k.producers.values()].map((p) =>
      p.disconnect().catch((err) => log.warn({ err }, "producer disconnect failed")),
    ),
  );
  await k.health.close();
}
