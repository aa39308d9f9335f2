// Environment parsing shared by the services' main.ts files (one place, one set of names).
import { InvalidInputError } from "@meridian/core";
import type { RegionLayoutOptions } from "./layout.js";

type Env = NodeJS.ProcessEnv;

export function envInt(env: Env, name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw === "") return fallback;
  const n = Number(raw);
  if (!Number.isFinite(n)) throw new InvalidInputError(`${name} must be a number, got "${raw}"`);
  return n;
}

export function envRequired(env: Env, name: string): string {
  const raw = env[name];
  if (!raw) throw new InvalidInputError(`${name} is required`);
  return raw;
}

/** `MERIDIAN_REDIS_DBS` as `us-east=1,us-west=2` or JSON `{"us-east":1}`. */
export function parseRedisDbs(raw: string | undefined): Record<string, number> | undefined {
  if (!raw) return undefined;
  if (raw.trim().startsWith("{")) return JSON.parse(raw) as Record<string, number>;
  const out: Record<string, number> = {};
  for (const part of raw.split(",")) {
    const [region, db] = part.split("=").map((s) => s.trim());
    if (!region || db === undefined || !Number.isInteger(Number(db))) {
      throw new InvalidInputError(`MERIDIAN_REDIS_DBS entry "${part}" must look like region=db`);
    }
    out[region] = Number(db);
  }
  return out;
}

/** `MERIDIAN_REDIS_URLS` as `us-east=redis://h1:6379,eu-west=redis://h2:6379`. */
export function parseRedisUrls(raw: string | undefined): Record<string, string> | undefined {
  if (!raw) return undefined;
  const out: Record<string, string> = {};
  for (const part of raw.split(",")) {
    const at = part.indexOf("=");
    const region = part.slice(0, at).trim();
    const url = part.slice(at + 1).trim();
    if (at <= 0 || !url)
      throw new InvalidInputError(
        `MERIDIAN_REDIS_URLS entry "${part}" must look like region=redis://host:port`,
      );
    out[region] = url;
  }
  return out;
}

/** MERIDIAN_REGIONS, MERIDIAN_NAMESPACE, MERIDIAN_REDIS_DBS, MERIDIAN_REDIS_URLS. */
export function layoutFromEnv(env: Env = process.env): RegionLayoutOptions {
  const regions = env.MERIDIAN_REGIONS?.split(",")
    .map((s) => s.trim())
    .filter(Boolean);
  const redisDbs = parseRedisDbs(env.MERIDIAN_REDIS_DBS);
  const redisUrls = parseRedisUrls(env.MERIDIAN_REDIS_URLS);
  return {
    ...(regions?.length ? { regions } : {}),
    ...(env.MERIDIAN_NAMESPACE ? { namespace: env.MERIDIAN_NAMESPACE } : {}),
    ...(redisDbs ? { redisDbs } : {}),
    ...(redisUrls ? { redisUrls } : {}),
  };
}

/** HTTP listen address: MERIDIAN_HOST (default 127.0.0.1) and PORT / MERIDIAN_PORT. */
export function listenFromEnv(env: Env, defaultPort: number): { host: string; port: number } {
  return {
    host: env.MERIDIAN_HOST ?? "127.0.0.1",
    port: envInt(env, "MERIDIAN_PORT", envInt(env, "PORT", defaultPort)),
  };
}

/** Stops the service on SIGINT / SIGTERM, then exits. */
export function stopOnSignals(stop: () => Promise<void>, log: { info(o: object, m: string): void }): void {
  let stopping = false;
  const onSignal = (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, "stopping");
    stop()
      .then(() => process.exit(0))
      .catch(() => process.exit(1));
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
}
