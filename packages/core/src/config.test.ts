import { inspect } from "node:util";
import { describe, expect, it } from "vitest";
import { configFromEnv } from "./config.js";
import { InvalidInputError } from "./errors.js";

const files: Record<string, string> = { "/run/secrets/redis": "r3dis-pw\n", "/run/secrets/token": "tok-123" };
const read = (p: string): string => {
  const text = files[p];
  if (text === undefined) throw Object.assign(new Error("nope"), { code: "ENOENT" });
  return text;
};

describe("configFromEnv credentials", () => {
  it("reads every credential from MERIDIAN_* variables or *_FILE, and never prints one", () => {
    const cfg = configFromEnv(
      {
        MERIDIAN_REDIS_USERNAME: "meridian",
        MERIDIAN_REDIS_PASSWORD_FILE: "/run/secrets/redis",
        MERIDIAN_REDIS_TLS: "1",
        MERIDIAN_PG_PASSWORD: "pg-pw-xyz",
        MERIDIAN_KAFKA_SASL_MECHANISM: "SCRAM-SHA-512",
        MERIDIAN_KAFKA_SASL_USERNAME: "svc",
        MERIDIAN_KAFKA_SASL_PASSWORD: "kafka-pw-xyz",
        MERIDIAN_KAFKA_TLS: "true",
        MERIDIAN_AUTH_TOKEN_FILE: "/run/secrets/token",
        MERIDIAN_AUTH_READS: "1",
      },
      read,
    );
    expect(cfg.redisAuth?.username).toBe("meridian");
    expect(cfg.redisAuth?.password?.reveal()).toBe("r3dis-pw");
    expect(cfg.redisAuth?.tls).toBe(true);
    expect(cfg.pgAuth?.password?.reveal()).toBe("pg-pw-xyz");
    expect(cfg.kafkaAuth?.sasl?.mechanism).toBe("scram-sha-512");
    expect(cfg.kafkaAuth?.sasl?.password.reveal()).toBe("kafka-pw-xyz");
    expect(cfg.httpAuth).toMatchObject({ reads: true });
    expect(cfg.httpAuth?.token?.reveal()).toBe("tok-123");
    for (const printed of [JSON.stringify(cfg), inspect(cfg, { depth: 10 }), String(cfg.pgAuth?.password)]) {
      for (const secret of ["r3dis-pw", "pg-pw-xyz", "kafka-pw-xyz", "tok-123"])
        expect(printed).not.toContain(secret);
    }
  });

  it("no credentials by default; contradictory or incomplete settings are typed errors", () => {
    const cfg = configFromEnv({});
    expect(cfg.redisAuth).toEqual({ tls: false });
    expect(cfg.httpAuth).toEqual({ reads: false });
    expect(cfg.kafkaAuth).toEqual({ tls: false });
    const bad = [
      { MERIDIAN_AUTH_TOKEN: "a", MERIDIAN_AUTH_TOKEN_FILE: "/run/secrets/token" },
      { MERIDIAN_AUTH_TOKEN: "" },
      { MERIDIAN_AUTH_TOKEN_FILE: "/missing" },
      { MERIDIAN_KAFKA_SASL_MECHANISM: "gssapi" },
      { MERIDIAN_KAFKA_SASL_MECHANISM: "plain", MERIDIAN_KAFKA_SASL_USERNAME: "u" },
      { MERIDIAN_REDIS_TLS: "yes please" },
    ];
    for (const env of bad)
      expect(() => configFromEnv(env, read), JSON.stringify(env)).toThrow(InvalidInputError);
  });
});
