// The client's Redis connections. Command connections never queue while disconnected
// (enableOfflineQueue: false) and time out, so losing Redis is a fast, typed failure, never a hang.
// Subscriber connections skip ioredis's handshake commands, which Redis refuses in subscriber mode
// after a reconnect (redis/ioredis#2037).
import { BackendUnavailableError, REGIONS, type RedisAuth, type Region } from "@meridian/core";
import { DEFAULT_REGION_DBS } from "@meridian/strong";
import { Redis } from "ioredis";

export interface ConnectionSpec {
  url: string;
  /** A region whose Redis is its own server (one per region) is reached here instead of `url`. */
  urls?: Partial<Record<Region, string>>;
  auth?: RedisAuth;
  dbs: Record<Region, number>;
  commandTimeoutMs: number;
}

/** ACL user / password and TLS; the password never goes into the URL. */
function authOf(spec: ConnectionSpec) {
  const a = spec.auth;
  return {
    ...(a?.username ? { username: a.username } : {}),
    ...(a?.password ? { password: a.password.reveal() } : {}),
    ...(a?.tls ? { tls: {} } : {}),
  };
}

function urlOf(spec: ConnectionSpec, region: Region): string {
  return spec.urls?.[region] ?? spec.url;
}

export function regionDbs(custom: Partial<Record<Region, number>> | undefined): Record<Region, number> {
  return { ...DEFAULT_REGION_DBS, ...custom };
}

export async function openCommand(spec: ConnectionSpec, region: Region, name?: string): Promise<Redis> {
  const r = new Redis(urlOf(spec, region), {
    ...(name ? { connectionName: name } : {}),
    ...authOf(spec),
    db: spec.dbs[region],
    lazyConnect: true,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    commandTimeout: spec.commandTimeoutMs,
  });
  r.on("error", () => {}); // surfaced per command as a typed error
  await connect(r, region);
  return r;
}

export async function openSubscriber(
  spec: ConnectionSpec,
  region: Region,
  autoResubscribe: boolean,
  name?: string,
): Promise<Redis> {
  const r = new Redis(urlOf(spec, region), {
    ...(name ? { connectionName: name } : {}),
    ...authOf(spec),
    db: spec.dbs[region],
    lazyConnect: true,
    enableReadyCheck: false,
    disableClientInfo: true,
    autoResubscribe,
    maxRetriesPerRequest: null,
  });
  r.on("error", () => {});
  await connect(r, region);
  return r;
}

export async function openAllRegions(spec: ConnectionSpec): Promise<Record<Region, Redis>> {
  const entries = await Promise.all(REGIONS.map(async (r) => [r, await openCommand(spec, r)] as const));
  return Object.fromEntries(entries) as Record<Region, Redis>;
}

async function connect(r: Redis, region: Region): Promise<void> {
  try {
    await r.connect();
  } catch (err) {
    r.disconnect();
    throw new BackendUnavailableError(`cannot reach Redis of ${region}: ${(err as Error).message}`, {
      backend: "redis",
      region,
    });
  }
}
