// Addresses of the servers and the credentials to reach them, from the environment; defaults match
// what infra/up.sh starts (no credentials). Every secret is a Secret, which never prints its value.
import { InvalidInputError } from "./errors.js";
import { type ReadSecretFile, type Secret, secretFromEnv } from "./secret.js";

export type DataClass = "critical" | "important" | "cacheable";

/** Redis ACL user and password (AUTH username password), TLS on the connection. */
export interface RedisAuth {
  username?: string;
  password?: Secret;
  tls: boolean;
}

export interface PgAuth {
  password?: Secret;
  ssl: boolean;
}

export type KafkaSaslMechanism = "scram-sha-256" | "scram-sha-512" | "plain";

export interface KafkaAuth {
  sasl?: { mechanism: KafkaSaslMechanism; username: string; password: Secret };
  tls: boolean;
  /** PEM file of the CA that signed the brokers' certificates (default: Node's trusted CAs). */
  caFile?: string;
}

/** Bearer token the services require on writes and admin routes (and on reads with `reads`). */
export interface HttpAuth {
  token?: Secret;
  reads: boolean;
}

export interface MeridianConfig {
  kafkaBrokers: string[];
  redisUrl: string;
  pgUrl: string;
  schemaRegistryUrl: string;
  /** Bearer token sent to the schema registry (its register / config routes need it). */
  schemaRegistryToken?: Secret;
  redisAuth?: RedisAuth;
  pgAuth?: PgAuth;
  kafkaAuth?: KafkaAuth;
  httpAuth?: HttpAuth;
}

const SASL_MECHANISMS: readonly KafkaSaslMechanism[] = ["scram-sha-256", "scram-sha-512", "plain"];

function flag(env: NodeJS.ProcessEnv, name: string): boolean {
  const v = env[name]?.trim().toLowerCase();
  if (v === undefined || v === "" || v === "0" || v === "false") return false;
  if (v === "1" || v === "true") return true;
  throw new InvalidInputError(`${name} must be 1/true or 0/false`, { field: name });
}

function kafkaAuthFromEnv(env: NodeJS.ProcessEnv, read?: ReadSecretFile): KafkaAuth {
  const auth: KafkaAuth = { tls: flag(env, "MERIDIAN_KAFKA_TLS") };
  if (env.MERIDIAN_KAFKA_TLS_CA_FILE) auth.caFile = env.MERIDIAN_KAFKA_TLS_CA_FILE;
  const mechanism = env.MERIDIAN_KAFKA_SASL_MECHANISM?.toLowerCase();
  if (!mechanism) return auth;
  if (!(SASL_MECHANISMS as readonly string[]).includes(mechanism))
    throw new InvalidInputError(
      `MERIDIAN_KAFKA_SASL_MECHANISM must be one of ${SASL_MECHANISMS.join(", ")}`,
      {
        field: "MERIDIAN_KAFKA_SASL_MECHANISM",
      },
    );
  const username = env.MERIDIAN_KAFKA_SASL_USERNAME;
  const password = secretFromEnv(env, "MERIDIAN_KAFKA_SASL_PASSWORD", read);
  if (!username || !password)
    throw new InvalidInputError("SASL needs MERIDIAN_KAFKA_SASL_USERNAME and MERIDIAN_KAFKA_SASL_PASSWORD", {
      field: "MERIDIAN_KAFKA_SASL_USERNAME",
    });
  auth.sasl = { mechanism: mechanism as KafkaSaslMechanism, username, password };
  return auth;
}

export function configFromEnv(env: NodeJS.ProcessEnv = process.env, read?: ReadSecretFile): MeridianConfig {
  const redisPassword = secretFromEnv(env, "MERIDIAN_REDIS_PASSWORD", read);
  const pgPassword = secretFromEnv(env, "MERIDIAN_PG_PASSWORD", read);
  const token = secretFromEnv(env, "MERIDIAN_AUTH_TOKEN", read);
  // The registry is one more Meridian service: the services' token unless it has a token of its own.
  const registryToken = secretFromEnv(env, "MERIDIAN_SCHEMA_REGISTRY_TOKEN", read) ?? token;
  return {
    kafkaBrokers: (env.MERIDIAN_KAFKA_BROKERS ?? "127.0.0.1:9092").split(",").map((s) => s.trim()),
    redisUrl: env.MERIDIAN_REDIS_URL ?? "redis://127.0.0.1:6379",
    pgUrl: env.MERIDIAN_PG_URL ?? "postgres://postgres@127.0.0.1:5432/postgres",
    schemaRegistryUrl: env.MERIDIAN_SCHEMA_REGISTRY_URL ?? "http://127.0.0.1:8081",
    ...(registryToken ? { schemaRegistryToken: registryToken } : {}),
    redisAuth: {
      ...(env.MERIDIAN_REDIS_USERNAME ? { username: env.MERIDIAN_REDIS_USERNAME } : {}),
      ...(redisPassword ? { password: redisPassword } : {}),
      tls: flag(env, "MERIDIAN_REDIS_TLS"),
    },
    pgAuth: { ...(pgPassword ? { password: pgPassword } : {}), ssl: flag(env, "MERIDIAN_PG_SSL") },
    kafkaAuth: kafkaAuthFromEnv(env, read),
    httpAuth: { ...(token ? { token } : {}), reads: flag(env, "MERIDIAN_AUTH_READS") },
  };
}
