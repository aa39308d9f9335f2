// Wires critical data with home regions for a set of regions: per region its PostgreSQL schema (the home's
// source of truth), its Redis, a HomeStore, a HomeRouter and the RPC endpoint other regions forward to —
// that endpoint sits behind the WAN, so every forwarded request pays the link's delay both ways and obeys
// its partitions.
import { randomBytes } from "node:crypto";
import { InvalidInputError, type Region } from "@meridian/core";
import { createPgPool, createRedis, type PgPool, type Redis } from "@meridian/store";
import { StrongConsistencyCache } from "@meridian/strong";
import { RpcClient } from "../rpc/client.js";
import { type RpcServer, startRpcServer } from "../rpc/server.js";
import type { WanNetwork } from "../wan-network.js";
import { HomeStore } from "./home-store.js";
import { HomePolicy, type HomePolicyOptions } from "./policy.js";
import { HomeRouter } from "./router.js";

export interface GeoCriticalOptions {
  network: WanNetwork;
  pgUrl: string;
  redisUrl: string;
  /** Redis logical DB of each region. */
  redisDbs: Readonly<Record<string, number>>;
  /** Prefix of every Redis key written (isolates runs). */
  keyPrefix: string;
  /** Schema name base: region R's home data lives in `<base>_<r>` (`-` → `_`). */
  schemaBase: string;
  policy?: Omit<HomePolicyOptions, "regions">;
  /** Shared secret of region-to-region calls (default: random per cluster). */
  token?: string;
  forwardTimeoutMs?: number;
}

export interface GeoCritical {
  readonly policy: HomePolicy;
  readonly routers: Readonly<Record<string, HomeRouter>>;
  /** Schema of each home region. */
  readonly schemas: Readonly<Record<string, string>>;
  close(): Promise<void>;
  /** Drops every home schema (after close; namespaced runs only). */
  dropSchemas(): Promise<void>;
}

const SCHEMA_PATTERN = /^[a-z_][a-z0-9_]{0,62}$/;

export function homeSchema(base: string, region: string): string {
  const schema = `${base}_${region.toLowerCase().replace(/[^a-z0-9_]/g, "_")}`;
  if (!SCHEMA_PATTERN.test(schema)) throw new InvalidInputError(`bad schema name ${schema}`, { schema });
  return schema;
}

export async function createGeoCritical(o: GeoCriticalOptions): Promise<GeoCritical> {
  const regions = o.network.regions;
  const policy = new HomePolicy({ ...o.policy, regions });
  const token = o.token ?? randomBytes(24).toString("hex");
  const schemas = Object.fromEntries(regions.map((r) => [r, homeSchema(o.schemaBase, r)]));
  const pools: PgPool[] = [];
  const redis: Redis[] = [];
  const servers: RpcServer[] = [];
  const clients: RpcClient[] = [];
  const routers: Record<string, HomeRouter> = {};
  const close = async (): Promise<void> => {
    for (const c of clients) c.close();
    await Promise.all(servers.map((s) => s.stop()));
    for (const r of redis) r.disconnect();
    await Promise.all(pools.map((p) => p.end()));
  };
  try {
    await createSchemas(o.pgUrl, Object.values(schemas));
    for (const region of regions) {
      const pool = createPgPool(o.pgUrl, { max: 5, searchPath: schemas[region]! });
      pools.push(pool);
      const local = createRedis(o.redisUrl, { db: o.redisDbs[region] ?? 0 });
      redis.push(local);
      const cache = new StrongConsistencyCache(local, pool, {
        region: region as Region,
        keyPrefix: `${o.keyPrefix}home:${region}:`,
      });
      await cache.init();
      const peers: Record<string, RpcClient> = {};
      for (const other of regions) {
        if (other === region) continue;
        const client = new RpcClient({
          address: () => o.network.address(region, rpcService(other)),
          token,
          peer: other,
          ...(o.forwardTimeoutMs !== undefined ? { timeoutMs: o.forwardTimeoutMs } : {}),
        });
        clients.push(client);
        peers[other] = client;
      }
      routers[region] = new HomeRouter({
        region,
        policy,
        local: new HomeStore(region, cache, pool, policy),
        peers,
        ...(o.forwardTimeoutMs !== undefined ? { forwardTimeoutMs: o.forwardTimeoutMs } : {}),
      });
      const server = await startRpcServer({ token, handle: routers[region]!.serve });
      servers.push(server);
      await o.network.addService(rpcService(region), region, server.address);
    }
  } catch (err) {
    await close();
    throw err;
  }
  return {
    policy,
    routers,
    schemas,
    close,
    async dropSchemas() {
      const admin = createPgPool(o.pgUrl, { max: 1 });
      try {
        for (const s of Object.values(schemas)) await admin.query(`DROP SCHEMA IF EXISTS ${s} CASCADE`);
      } finally {
        await admin.end();
      }
    },
  };
}

/** WAN service name of a region's home RPC endpoint. */
export function rpcService(region: string): string {
  return `home-rpc:${region}`;
}

async function createSchemas(pgUrl: string, schemas: string[]): Promise<void> {
  const admin = createPgPool(pgUrl, { max: 1 });
  try {
    for (const s of schemas) await admin.query(`CREATE SCHEMA IF NOT EXISTS ${s}`);
  } finally {
    await admin.end();
  }
}
