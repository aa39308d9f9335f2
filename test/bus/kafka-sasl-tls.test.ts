// Kafka SASL/SCRAM-SHA-512 over TLS, for real: a private KRaft broker with a SASL_SSL listener (SCRAM user
// bootstrapped at format time, a self-signed certificate made by keytool at test time). Meridian's bus,
// configured only through the MERIDIAN_KAFKA_* settings, produces and consumes over it; a wrong password
// or an untrusted certificate is a typed error within seconds, never a hang; no secret reaches the logs.
import { randomUUID } from "node:crypto";
import { createKafka, IdempotentProducer, SupervisedConsumer } from "@meridian/bus";
import { AuthenticationError, BackendUnavailableError, configFromEnv, MeridianError } from "@meridian/core";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type SecureKafka, startSecureKafka } from "../support/secure-kafka.js";

let broker: SecureKafka;
const lines: string[] = [];
// Everything the bus logs, at every level, kept to be searched for secrets.
const logger = pino({ level: "trace" }, { write: (line: string) => void lines.push(line) });
const WRONG = `wrong-${randomUUID()}`;

beforeAll(async () => {
  broker = await startSecureKafka();
}, 300_000);
afterAll(async () => {
  await broker?.stop();
});

function settings(password: string, caFile = broker.caFile): NodeJS.ProcessEnv {
  return {
    MERIDIAN_KAFKA_BROKERS: broker.brokers,
    MERIDIAN_KAFKA_SASL_MECHANISM: "scram-sha-512",
    MERIDIAN_KAFKA_SASL_USERNAME: broker.username,
    MERIDIAN_KAFKA_SASL_PASSWORD: password,
    MERIDIAN_KAFKA_TLS: "1",
    MERIDIAN_KAFKA_TLS_CA_FILE: caFile,
  };
}

/** The typed error and how long it took; fails the test if the call succeeds. */
async function failure(call: () => Promise<unknown>): Promise<{ err: MeridianError; ms: number }> {
  const t0 = Date.now();
  const err = await call().then(
    () => {
      throw new Error("expected a failure");
    },
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(MeridianError);
  return { err: err as MeridianError, ms: Date.now() - t0 };
}

describe("Kafka over SASL_SSL (SCRAM-SHA-512 + TLS) through MERIDIAN_KAFKA_*", () => {
  it("produces and consumes with the right credentials", async () => {
    const config = configFromEnv(settings(broker.password));
    const kafka = createKafka(config, "sasl-tls-test", logger);
    const topic = `sasl-tls-${randomUUID().slice(0, 8)}`;
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic, numPartitions: 1 }], waitForLeaders: true });
    await admin.disconnect();
    const producer = new IdempotentProducer(kafka);
    await producer.send(topic, [{ key: "k1", value: Buffer.from("over-sasl-ssl") }]);
    await producer.disconnect();

    const consumer = kafka.consumer({ groupId: `sasl-tls-${randomUUID()}` });
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    const got = new Promise<string>((resolve) => {
      void consumer.run({ eachMessage: async ({ message }) => resolve(message.value!.toString()) });
    });
    const value = await Promise.race([got, new Promise((r) => setTimeout(() => r("timeout"), 30_000))]);
    await consumer.disconnect();
    expect(value).toBe("over-sasl-ssl");
  });

  it("a wrong password is an AuthenticationError (not retriable) within seconds", async () => {
    const kafka = createKafka(configFromEnv(settings(WRONG)), "sasl-wrong-test", logger);
    const { err, ms } = await failure(() => new IdempotentProducer(kafka).connect());
    expect(err).toBeInstanceOf(AuthenticationError);
    expect(err.retriable).toBe(false);
    expect(ms).toBeLessThan(15_000);
  });

  it("a wrong password refuses a supervised consumer the same way: AuthenticationError, not retriable", async () => {
    const kafka = createKafka(configFromEnv(settings(WRONG)), "sasl-wrong-consumer-test", logger);
    const consumer = new SupervisedConsumer(kafka, {
      config: { groupId: `sasl-wrong-${randomUUID()}` },
      logger,
    });
    const { err, ms } = await failure(() => consumer.start(async () => {}));
    await consumer.stop().catch(() => undefined);
    expect(err).toBeInstanceOf(AuthenticationError);
    expect(err.retriable).toBe(false);
    expect(consumer.health().state).toBe("stopped");
    expect(ms).toBeLessThan(15_000);
  });

  it("a broker certificate the client does not trust is a typed error within seconds", async () => {
    // Node's default CAs instead of the broker's self-signed one.
    const env = settings(broker.password);
    delete env.MERIDIAN_KAFKA_TLS_CA_FILE;
    const kafka = createKafka(configFromEnv(env), "tls-untrusted-test", logger);
    const { err, ms } = await failure(() => new IdempotentProducer(kafka).connect());
    expect(err).toBeInstanceOf(BackendUnavailableError);
    expect(ms).toBeLessThan(30_000);
  });

  it("no password appears in what the bus logged, in errors or in the config", () => {
    const config = configFromEnv(settings(broker.password));
    const everything = [...lines, JSON.stringify(config), String(config.kafkaAuth?.sasl?.password)].join(
      "\n",
    );
    expect(lines.length).toBeGreaterThan(0); // the failures above were logged
    expect(everything).not.toContain(broker.password);
    expect(everything).not.toContain(WRONG);
  });
});
