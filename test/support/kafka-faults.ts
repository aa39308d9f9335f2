// Fault injection around a real kafkajs client (the broker stays real): consumers that crash the way
// kafkajs does on a non-retriable error such as UNKNOWN_MEMBER_ID on an offset commit (`restart: false`).
import { type Consumer, type ConsumerRunConfig, type Kafka, KafkaJSNonRetriableError } from "kafkajs";

/** kafkajs with a fault: each of the first `crashes` consumers throws a non-retriable error on its first batch. */
export function crashingKafka(real: Kafka, crashes: number): { kafka: Kafka; injected: () => number } {
  let created = 0;
  let injected = 0;
  const wrapConsumer = (consumer: Consumer): Consumer => {
    let armed = created++ < crashes;
    return new Proxy(consumer, {
      get(target, prop, receiver) {
        if (prop !== "run") return Reflect.get(target, prop, receiver);
        return (cfg: ConsumerRunConfig) =>
          target.run({
            ...cfg,
            eachBatch: async (payload) => {
              if (armed) {
                armed = false;
                injected += 1;
                throw new KafkaJSNonRetriableError("injected: The coordinator is not aware of this member");
              }
              await cfg.eachBatch!(payload);
            },
          });
      },
    });
  };
  const kafka = new Proxy(real, {
    get(target, prop, receiver) {
      if (prop === "consumer")
        return (cfg: Parameters<Kafka["consumer"]>[0]) => wrapConsumer(target.consumer(cfg));
      return Reflect.get(target, prop, receiver);
    },
  });
  return { kafka, injected: () => injected };
}
