// Taking a cluster down: stopping its parts in dependency order, and deleting what a namespaced run
// left behind on the shared servers.
import { createKafka } from "@meridian/bus";
import type { MeridianConfig } from "@meridian/core";
import { pipelineTopicNames, type RegionLayout, regionRedisUrl } from "@meridian/service-kit";
import { createPgPool, createRedis, deleteKeysWithPrefix } from "@meridian/store";
import type { Kafka } from "kafkajs";

/** Something to stop; undefined parts (not started, or disabled) are skipped. */
export type Stoppable = { stop(): Promise<unknown> } | undefined;

/**
 * Stops each group in turn (the parts of a group at once): producers of work before those consuming it,
 * and the servers last.
 */
export async function stopInOrder(groups: readonly (readonly Stoppable[])[]): Promise<void> {
  for (const group of groups) await Promise.all(group.map((part) => part?.stop()));
}

/** Deletes the layout's pipeline topics that exist. Best effort: leftover topics of a namespaced run harm nobody. */
export async function deletePipelineTopics(kafka: Kafka, layout: RegionLayout): Promise<void> {
  const admin = kafka.admin();
  try {
    await admin.connect();
    const existing = new Set(await admin.listTopics());
    const topics = pipelineTopicNames(layout).filter((t) => existing.has(t));
    if (topics.length) await admin.deleteTopics({ topics, timeout: 10_000 });
  } catch {
    // see above
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}

/**
 * Deletes a namespaced run's Redis keys (every region's DB on its server), topics and PostgreSQL schema.
 * Best effort per part.
 */
export async function purgeNamespace(
  config: MeridianConfig,
  layout: RegionLayout,
  schema: string | undefined,
): Promise<void> {
  const where = (r: string) => ({ url: regionRedisUrl(layout, r, config.redisUrl), db: layout.redisDbs[r]! });
  const places = new Map(layout.regions.map((r) => [JSON.stringify(where(r)), where(r)]));
  for (const { url, db } of places.values()) {
    const redis = createRedis(url, { db, auth: config.redisAuth });
    try {
      await deleteKeysWithPrefix(redis, layout.keyPrefix);
    } finally {
      redis.disconnect();
    }
  }
  await deletePipelineTopics(createKafka(config, `meridian-purge-${layout.namespace}`), layout);
  if (schema) {
    const pool = createPgPool(config.pgUrl, { max: 1, auth: config.pgAuth });
    try {
      await pool.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    } finally {
      await pool.end();
    }
  }
}
