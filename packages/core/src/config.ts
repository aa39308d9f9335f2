// Addresses of the servers, from the environment; defaults match what infra/up.sh starts.
export const REGIONS = ["us-east", "us-west", "eu-west", "ap-south", "ap-northeast"] as const;
export type Region = (typeof REGIONS)[number];

export type DataClass = "critical" | "important" | "cacheable";

export interface MeridianConfig {
  kafkaBrokers: string[];
  redisUrl: string;
  pgUrl: string;
  schemaRegistryUrl: string;
}

export function configFromEnv(env: NodeJS.ProcessEnv = process.env): MeridianConfig {
  return {
    kafkaBrokers: (env.MERIDIAN_KAFKA_BROKERS ?? "127.0.0.1:9092").split(",").map((s) => s.trim()),
    redisUrl: env.MERIDIAN_REDIS_URL ?? "redis://127.0.0.1:6379",
    pgUrl: env.MERIDIAN_PG_URL ?? "postgres://postgres@127.0.0.1:5432/postgres",
    schemaRegistryUrl: env.MERIDIAN_SCHEMA_REGISTRY_URL ?? "http://127.0.0.1:8081",
  };
}

export function isRegion(value: string): value is Region {
  return (REGIONS as readonly string[]).includes(value);
}
