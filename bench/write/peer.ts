// The peer: BentoCache `set` (memory L1 + Redis L2 + Redis bus), the same key shapes as Meridian's rows.
// It overwrites (no merge, no version) and its bus is Redis pub/sub, not a durable log.
import { BentoCache, bentostore } from "bentocache";
import { memoryDriver } from "bentocache/drivers/memory";
import { redisBusDriver, redisDriver } from "bentocache/drivers/redis";
import { type Row, runFor } from "./harness.js";
import { KEYS } from "./meridian.js";

export async function bentoCases(redisUrl: string, prefix: string, ms: number): Promise<Row[]> {
  const url = new URL(redisUrl);
  const connection = { host: url.hostname, port: Number(url.port || 6379) };
  const bento = new BentoCache({
    default: "cache",
    stores: {
      cache: bentostore()
        .useL1Layer(memoryDriver({ maxItems: 20_000 }))
        .useL2Layer(redisDriver({ connection, prefix }))
        .useBus(redisBusDriver({ connection })),
    },
  });
  const rows: Row[] = [];
  try {
    for (const n of [1, 64, 256]) {
      rows.push(
        await runFor(`BentoCache set, ${KEYS / 1000} k keys uniform (overwrite)`, n, ms, 1, (i) =>
          bento.set({ key: `price:${Math.floor(Math.random() * KEYS)}`, value: i }),
        ),
      );
    }
    rows.push(
      await runFor("BentoCache set, one hot key (overwrite, no merge)", 64, ms, 1, (i) =>
        bento.set({ key: "position:HOT", value: i }),
      ),
    );
  } finally {
    await bento.disconnect();
  }
  return rows;
}
