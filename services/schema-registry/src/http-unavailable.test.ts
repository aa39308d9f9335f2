// The registry over HTTP when its Kafka log cannot take a write: 503 with Retry-After, Confluent's error body.
import type { AddressInfo } from "node:net";
import { Secret } from "@meridian/core";
import pino from "pino";
import { afterAll, describe, expect, it } from "vitest";
import { storeError } from "./errors.js";
import { createRegistryServer } from "./http.js";
import { Registry } from "./registry.js";
import { RegistryState } from "./state.js";

const TOKEN = "registry-test-token";

describe("schema registry HTTP with its log unavailable", () => {
  const log = {
    append: async () => {
      throw storeError("broker not reachable");
    },
  };
  const server = createRegistryServer(
    new Registry(new RegistryState(), log),
    pino({ level: "silent" }),
    () => ({}),
    { token: new Secret(TOKEN), reads: false },
  );
  afterAll(() => new Promise((r) => server.close(r)));

  it("answers a registration with 503 + Retry-After and error_code 50001", async () => {
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    const { port } = server.address() as AddressInfo;
    const res = await fetch(`http://127.0.0.1:${port}/subjects/s-value/versions`, {
      method: "POST",
      headers: {
        "content-type": "application/vnd.schemaregistry.v1+json",
        authorization: `Bearer ${TOKEN}`,
      },
      body: JSON.stringify({ schema: JSON.stringify({ type: "record", name: "P", fields: [] }) }),
    });
    expect(res.status).toBe(503);
    expect(res.headers.get("retry-after")).toBe("1");
    expect(await res.json()).toMatchObject({ error_code: 50001 });
  });
});
