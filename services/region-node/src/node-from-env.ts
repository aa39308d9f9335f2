// One region node configured from its environment (what main.ts runs; see services/README.md).
// PostgreSQL is needed even with MERIDIAN_CRITICAL=off: the writer incarnations of `important` data are
// drawn from it, so a region whose Redis lost its data never reuses vector-clock counters it issued.
import { configFromEnv } from "@meridian/core";
import { pgWriterIncarnations } from "@meridian/eventual";
import {
  createLogger,
  envInt,
  envRequired,
  type Logger,
  layoutFromEnv,
  listenFromEnv,
  resolveLayout,
} from "@meridian/service-kit";
import type { PgPool } from "@meridian/store";
import { type RegionNodeHandle, startRegionNode } from "./region-node-service.js";
import { openSchemaPool } from "./schema-pool.js";
import { createStrongCritical, type StrongCritical } from "./strong-critical.js";

export interface NodeFromEnv {
  readonly handle: RegionNodeHandle;
  readonly logger: Logger;
  stop(): Promise<void>;
}

export async function startRegionNodeFromEnv(env: NodeJS.ProcessEnv = process.env): Promise<NodeFromEnv> {
  const region = envRequired(env, "MERIDIAN_REGION");
  const logger = createLogger("region-node", { region });
  const layout = layoutFromEnv(env);
  const config = configFromEnv(env);
  const schema = env.MERIDIAN_PG_SCHEMA ? { schema: env.MERIDIAN_PG_SCHEMA } : {};
  // critical data needs the strong tier; MERIDIAN_CRITICAL=off runs the node without it (critical → 501).
  let strong: StrongCritical | undefined;
  let ownPool: PgPool | undefined;
  if (env.MERIDIAN_CRITICAL === "off") {
    ownPool = await openSchemaPool(config, { max: 2, ...schema });
  } else {
    strong = await createStrongCritical(config, resolveLayout(layout), schema);
  }
  const pool = strong?.pool ?? ownPool!;
  const closePg = async () => {
    await strong?.close();
    await ownPool?.end();
  };
  try {
    const handle = await startRegionNode({
      ...layout,
      ...listenFromEnv(env, 8080),
      region,
      config,
      ...(strong ? { criticalPg: { pool: strong.pool } } : {}),
      incarnations: pgWriterIncarnations(pool),
      logger,
      processMetrics: true,
      cacheableTtlMs: envInt(env, "MERIDIAN_CACHEABLE_TTL_MS", 1000),
      ingestMarketData: env.MERIDIAN_INGEST_MARKET_DATA === "1" || env.MERIDIAN_INGEST_MARKET_DATA === "true",
    });
    return {
      handle,
      logger,
      async stop() {
        await handle.stop();
        await closePg();
      },
    };
  } catch (err) {
    await closePg();
    throw err;
  }
}
