// kafkaConnectError decides "credentials refused" by kafkajs' error classes down the cause chain, never by
// the message: wrapped any number of times the refusal stays an AuthenticationError, and a connection
// failure stays BackendUnavailableError whatever its message says.
import { AuthenticationError, BackendUnavailableError } from "@meridian/core";
import fc from "fast-check";
import { KafkaJSConnectionError, KafkaJSNonRetriableError, KafkaJSSASLAuthenticationError } from "kafkajs";
import { describe, expect, it } from "vitest";
import { kafkaConnectError } from "./kafka.js";

// kafkajs' typings declare this constructor without its message argument; at run time it takes one.
const SaslRefusal = KafkaJSSASLAuthenticationError as unknown as new (message: string) => Error;

/** `inner` wrapped `depth` times the way kafkajs' retrier wraps what it gives up on. */
function wrapped(inner: Error, depth: number): Error {
  let err = inner;
  for (let i = 0; i < depth; i++) err = Object.assign(new KafkaJSNonRetriableError(err), { cause: err });
  return err;
}

describe("kafkaConnectError", () => {
  it("a SASL refusal, however deeply kafkajs wrapped it, is a non-retriable AuthenticationError", () => {
    fc.assert(
      fc.property(fc.nat(5), fc.string(), (depth, text) => {
        const err = kafkaConnectError(wrapped(new SaslRefusal(text), depth), "connect");
        expect(err).toBeInstanceOf(AuthenticationError);
        expect(err.retriable).toBe(false);
      }),
    );
  });

  it("a connection failure is BackendUnavailableError even when its message mentions SASL", () => {
    fc.assert(
      fc.property(fc.nat(5), (depth) => {
        const inner = new KafkaJSConnectionError("SASL SCRAM authentication failed: connection reset");
        expect(kafkaConnectError(wrapped(inner, depth), "connect")).toBeInstanceOf(BackendUnavailableError);
      }),
    );
  });
});
