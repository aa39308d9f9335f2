// Wires critical data with home regions for a set of regions: per region its PostgreSQL schema (the home's
// source of truth), its Redis, a HomeStore, a HomeRouter and the RPC endpoint other regions forward to —
// that endpoint sits behind the WAN, so every forwarded request pays the link's delay both ways and obeys
// its partitions.
import { randomBytes } from "node:crypto";
import { InvalidInputError, parseRegion, type Region } from "@meridian/core";
import { createIfAbsent, createPgPool, createRedis, type PgPool, type Redis } from "@meridian/store";
import { StrongConsistencyCache } from "@meridian/strong";
import { endpointOf, pgPoolOverWan, redisOverWan } from "../clients.js";
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
  /** Per-region Redis servers (region → URL), where regions do not share `redisUrl`. */
  redisUrls?: Readonly<Record<string, string>>;
  /** Redis logical DB of each region. */
  redisDbs: Readonly<Record<string, number>>;
  /** Prefix of every Redis key written (isolates runs). */
  keyPrefix: string;
  /** Schema name base: region R's home data lives in `<base>_<r>` (`-` → `_`). */
  schemaBase: string;
  policy?: Omit<HomePolicyOptions, "regions">;
  /** Shared secret of region-to-region calls (default: random per cluster). */
  token?: string;
  /** Bound of a forwarded call and of every command sent across the WAN (default 3000 ms). */
  forwardTimeoutMs?: number;
}

/** WAN service names of a region's Redis and PostgreSQL (the home schema's server). */
export const redisService = (region: string): string => `redis:${region}`;
export const pgService = (region: string): string => `pg:${region}`;

export interface GeoCritical {
  readonly policy: HomePolicy;
  readonly routers: Readonly<Record<string, HomeRouter>>;
  /** Schema of each home region. */
  readonly schemas: Readonly<Record<string, string>>;
  /** A query on home region `home`'s schema (inspection: the monitor compares cached versions with it). */
  query(home: string, text: string, values: unknown[]): Promise<{ rows: Record<string, unknown>[] }>;
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

/** What a GeoCritical opened, closed in reverse order of dependency. */
class Resources {
  readonly pools: PgPool[] = [];
  /** Each home's own pool on its schema. */
  readonly homePools = new Map<string, PgPool>();
  readonly redis: Redis[] = [];
  readonly servers: RpcServer[] = [];
  readonly clients: RpcClient[] = [];

  async close(): Promise<void> {
    for (const c of this.clients) c.close();
    await Promise.all(this.servers.map((s) => s.stop()));
    for (const r of this.redis) r.disconnect();
    await Promise.all(this.pools.map((p) => p.end()));
  }
}

interface Shared {
  o: GeoCriticalOptions;
  policy: HomePolicy;
  token: string;
  schemas: Record<string, string>;
  res: Resources;
}

export async function createGeoCritical(o: GeoCriticalOptions): Promise<GeoCritical> {
  const regions = o.network.regions;
  const policy = new HomePolicy({ ...o.policy, regions });
  const token = o.token ?? randomBytes(24).toString("hex");
  const schemas = Object.fromEntries(regions.map((r) => [r, homeSchema(o.schemaBase, r)]));
  const res = new Resources();
  const routers: Record<string, HomeRouter> = {};
  try {
    await createSchemas(o.pgUrl, Object.values(schemas));
    if ((o.policy?.readMostly ?? []).length > 0) await addRegionServers(o.network, o);
    for (const region of regions)
      routers[region] = await regionRouter({ o, policy, token, schemas, res }, region);
  } catch (err) {
    await res.close();
    throw err;
  }
  return {
    policy,
    routers,
    schemas,
    async query(home, text, values) {
      return res.homePools.get(parseRegion(home, regions))!.query(text, values);
    },
    close: () => res.close(),
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

/** One region: its home store over its schema and Redis, its router, and its RPC endpoint behind the WAN. */
async function regionRouter(sh: Shared, region: string): Promise<HomeRouter> {
  const { o, policy, res } = sh;
  const pool = createPgPool(o.pgUrl, { max: 5, searchPath: sh.schemas[region]! });
  res.pools.push(pool);
  res.homePools.set(region, pool);
  const local = createRedis(o.redisUrls?.[region] ?? o.redisUrl, { db: o.redisDbs[region] ?? 0 });
  res.redis.push(local);
  const cacheOpts = { region: region as Region, keyPrefix: `${o.keyPrefix}home:${region}:` };
  const cache = new StrongConsistencyCache(local, pool, cacheOpts);
  await cache.init();
  const rm = (o.policy?.readMostly ?? []).length > 0 ? readMostlyWiring(sh, region, local) : undefined;
  const readMostlyCache = rm
    ? new StrongConsistencyCache(local, pool, { ...cacheOpts, peers: rm.peers })
    : undefined;
  const router = new HomeRouter({
    region,
    policy,
    local: new HomeStore(region, cache, pool, policy, readMostlyCache),
    peers: rpcPeers(sh, region),
    ...(rm ? { replicas: rm.replicas } : {}),
    ...(o.forwardTimeoutMs !== undefined ? { forwardTimeoutMs: o.forwardTimeoutMs } : {}),
  });
  const server = await startRpcServer({ token: sh.token, handle: router.serve });
  res.servers.push(server);
  await o.network.addService(rpcService(region), region, server.address);
  return router;
}

/** RPC clients from `region` to every other region's endpoint, through the WAN. */
function rpcPeers(sh: Shared, region: string): Record<string, RpcClient> {
  const peers: Record<string, RpcClient> = {};
  for (const other of sh.o.network.regions) {
    if (other === region) continue;
    const client = new RpcClient({
      address: () => sh.o.network.address(region, rpcService(other)),
      token: sh.token,
      peer: other,
      ...(sh.o.forwardTimeoutMs !== undefined ? { timeoutMs: sh.o.forwardTimeoutMs } : {}),
    });
    sh.res.clients.push(client);
    peers[other] = client;
  }
  return peers;
}

/**
 * Read-mostly keys: this home's writes invalidate every other region's copy over the WAN (`peers`), and
 * this region reads other homes' read-mostly keys from its own copies, filled from their schemas over the
 * WAN under the strong cache's leases (`replicas`).
 */
function readMostlyWiring(sh: Shared, region: string, local: Redis) {
  const { o, res } = sh;
  const peers: Partial<Record<Region, Redis>> = {};
  const replicas: Record<string, HomeStore> = {};
  for (const other of o.network.regions) {
    if (other === region) continue;
    const bound = o.forwardTimeoutMs !== undefined ? { timeoutMs: o.forwardTimeoutMs } : {};
    const toOther = redisOverWan(o.network, region, redisService(other), o.redisDbs[other] ?? 0, {
      ...bound,
      credentialsOf: o.redisUrls?.[other] ?? o.redisUrl,
    });
    res.redis.push(toOther);
    peers[other as Region] = toOther;
    const remotePool = pgPoolOverWan(o.network, region, pgService(other), o.pgUrl, {
      ...bound,
      schema: sh.schemas[other]!,
    });
    res.pools.push(remotePool);
    const replica = new StrongConsistencyCache(local, remotePool, {
      region: region as Region,
      keyPrefix: `${o.keyPrefix}home:${other}:`,
    });
    replicas[other] = new HomeStore(other, replica, remotePool, sh.policy, replica);
  }
  return { peers, replicas };
}

/**
 * Puts each region's Redis and PostgreSQL behind the WAN. On one machine they may be one server each,
 * placed per region by logical DB (Redis) and schema (PostgreSQL); the link a client crosses depends on
 * which region's copy it addresses.
 */
export async function addRegionServers(
  network: WanNetwork,
  servers: { redisUrl: string; redisUrls?: Readonly<Record<string, string>>; pgUrl: string },
): Promise<void> {
  for (const region of network.regions) {
    if (!network.has(redisService(region))) {
      const url = servers.redisUrls?.[region] ?? servers.redisUrl;
      await network.addService(redisService(region), region, endpointOf(url, 6379));
    }
    if (!network.has(pgService(region))) {
      await network.addService(pgService(region), region, endpointOf(servers.pgUrl, 5432));
    }
  }
}

/** WAN service name of a region's home RPC endpoint. */
export function rpcService(region: string): string {
  return `home-rpc:${region}`;
}

async function createSchemas(pgUrl: string, schemas: string[]): Promise<void> {
  const admin = createPgPool(pgUrl, { max: 1 });
  try {
    for (const s of schemas) await createIfAbsent(admin, `CREATE SCHEMA IF NOT EXISTS ${s}`);
  } finally {
    await admin.end();
  }
}
