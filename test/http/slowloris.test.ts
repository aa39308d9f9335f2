// Slow clients cannot hold a connection open: a body sent one byte every 5 s, or headers one byte every
// second, is cut once the request timeout (10 s) or the headers timeout (5 s) passes — the services'
// defaults, served by the shared HTTP kit. Before fastify, such a body kept a connection open past 100 s.
import { connect, type Socket } from "node:net";
import { Secret } from "@meridian/core";
import { DEFAULT_HTTP_LIMITS, listen, Router, type StartedServer } from "@meridian/service-kit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

let server: StartedServer;

beforeAll(async () => {
  const router = new Router().on("PUT", "/v1/:class/:key", (req) => ({ status: 200, body: req.body }));
  server = await listen(router, 0, "127.0.0.1", undefined, {
    auth: { token: new Secret("t"), reads: false },
  });
});

afterAll(async () => {
  await server?.close();
});

/** Writes `head`, then one byte of `drip` every `everyMs`; resolves with ms until the server closed it. */
function dripUntilClosed(
  head: string,
  drip: string,
  everyMs: number,
): Promise<{ ms: number; reply: string }> {
  return new Promise((resolve) => {
    const started = Date.now();
    let reply = "";
    let i = 0;
    const socket: Socket = connect(server.port, "127.0.0.1", () => {
      socket.write(head);
    });
    const timer = setInterval(() => {
      if (i < drip.length && !socket.destroyed) socket.write(drip[i++]!);
    }, everyMs);
    socket.on("data", (d) => {
      reply += d.toString();
    });
    socket.on("error", () => {});
    socket.on("close", () => {
      clearInterval(timer);
      resolve({ ms: Date.now() - started, reply });
    });
  });
}

describe("slowloris", () => {
  it("a body dripping one byte every 5 s is cut within the request timeout", async () => {
    const body = JSON.stringify({ value: "x".repeat(50) });
    const head =
      "PUT /v1/important/k HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer t\r\n" +
      `Content-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n`;
    const { ms, reply } = await dripUntilClosed(head, body, 5_000);
    const bound = DEFAULT_HTTP_LIMITS.requestTimeoutMs + DEFAULT_HTTP_LIMITS.timeoutCheckIntervalMs + 2_000;
    expect(ms).toBeLessThan(bound);
    expect(ms).toBeGreaterThanOrEqual(DEFAULT_HTTP_LIMITS.requestTimeoutMs - 500);
    expect(reply === "" || reply.startsWith("HTTP/1.1 408")).toBe(true);
  }, 30_000);

  it("headers dripping one byte a second are cut within the headers timeout", async () => {
    const { ms } = await dripUntilClosed(
      "GET /v1/important/k HTTP/1.1\r\n",
      `X-Slow: ${"y".repeat(60)}`,
      1_000,
    );
    expect(ms).toBeLessThan(
      DEFAULT_HTTP_LIMITS.headersTimeoutMs + DEFAULT_HTTP_LIMITS.timeoutCheckIntervalMs + 2_000,
    );
  }, 30_000);
});
