// Topic set-up and a Kafka health check shared by the services.

import { ensureTopics, topicsFor } from "@meridian/bus";
import { BackendUnavailableError } from "@meridian/core";
import type { Kafka } from "kafkajs";
import type { RegionLayout } from "./layout.js";

/** Every topic the pipeline of `layout` uses, created when missing (idempotent). */
export function pipelineTopicNames(layout: RegionLayout): string[] {
  const t = topicsFor(layout.namespace);
  return [...layout.regions.flatMap((r) => [t.updates(r), t.inbound(r)]), t.marketTicks, t.deadLetter];
}

export async function ensureTopicsFor(kafka: Kafka, layout: RegionLayout): Promise<void> {
  await ensureTopics(kafka, pipelineTopicNames(layout), { partitions: 3 });
}

/** A connected admin client whose `check` lists the cluster within 3 s or throws BackendUnavailableError. */
export async function kafkaHealthCheck(
  kafka: Kafka,
): Promise<{ check: () => Promise<void>; close: () => Promise<void> }> {
  const admin = kafka.admin();
  await admin.connect();
  return {
    check: async () => {
      let timer: NodeJS.Timeout | undefined;
      try {
        await Promise.race([
          admin.describeCluster(),
          new Promise((_, reject) => {
            timer = setTimeout(() => reject(new Error("describeCluster timed out")), 3000);
          }),
        ]);
      } catch (err) {
        throw new BackendUnavailableError(`Kafka unavailable: ${(err as Error).message}`, {
          backend: "kafka",
        });
      } finally {
        clearTimeout(timer);
      }
    },
    close: () => admin.disconnect(),
  };
}
