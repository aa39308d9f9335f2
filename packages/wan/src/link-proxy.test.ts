import { once } from "node:events";
import { createServer, type Server, type Socket, connect as tcpConnect } from "node:net";
import fc from "fast-check";
import { afterEach, describe, expect, it } from "vitest";
import { type Endpoint, LinkProxy } from "./link-proxy.js";

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function echoServer(): Promise<Endpoint> {
  const sockets = new Set<Socket>();
  const server: Server = createServer((s) => {
    sockets.add(s);
    s.on("close", () => sockets.delete(s));
    s.pipe(s);
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  cleanups.push(async () => {
    for (const s of sockets) s.destroy();
    await new Promise((r) => server.close(r));
  });
  const addr = server.address() as { port: number };
  return { host: "127.0.0.1", port: addr.port };
}

async function proxyTo(upstream: Endpoint, delayMs: () => number): Promise<LinkProxy> {
  const proxy = new LinkProxy({ upstream, delayMs });
  await proxy.start();
  cleanups.push(() => proxy.stop());
  return proxy;
}

async function client(at: Endpoint): Promise<Socket> {
  const s = tcpConnect(at);
  await once(s, "connect");
  cleanups.push(() => void s.destroy());
  return s;
}

/** Resolves with everything received once `bytes` bytes arrived. */
function receive(s: Socket, bytes: number): Promise<Buffer> {
  const parts: Buffer[] = [];
  let got = 0;
  return new Promise((resolve, reject) => {
    s.on("error", reject);
    s.on("data", (d: Buffer) => {
      parts.push(d);
      got += d.length;
      if (got >= bytes) resolve(Buffer.concat(parts));
    });
  });
}

describe("LinkProxy", () => {
  it("delays each direction by the one-way delay", async () => {
    const proxy = await proxyTo(await echoServer(), () => 40);
    const s = await client(proxy.address);
    const startedAt = performance.now();
    const reply = receive(s, 4);
    s.write("ping");
    expect((await reply).toString()).toBe("ping");
    expect(performance.now() - startedAt).toBeGreaterThanOrEqual(78); // 2 × 40 ms, timer granularity aside
  });

  it("keeps byte order for any sequence of writes, whatever the delay does between them", async () => {
    const upstream = await echoServer();
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.uint8Array({ minLength: 1, maxLength: 2000 }), { minLength: 1, maxLength: 30 }),
        fc.array(fc.integer({ min: 0, max: 6 }), { minLength: 1, maxLength: 10 }),
        async (chunks, delays) => {
          let i = 0;
          const proxy = await proxyTo(upstream, () => delays[i++ % delays.length]!);
          const s = await client(proxy.address);
          const sent = Buffer.concat(chunks.map((c) => Buffer.from(c)));
          const reply = receive(s, sent.length);
          for (const c of chunks) s.write(c);
          expect((await reply).equals(sent)).toBe(true);
        },
      ),
      { numRuns: 25 },
    );
  });

  it("carries a large transfer intact under back-pressure", async () => {
    const proxy = await proxyTo(await echoServer(), () => 5);
    const s = await client(proxy.address);
    const sent = Buffer.alloc(12 << 20);
    for (let i = 0; i < sent.length; i += 4096) sent[i] = (i / 4096) & 0xff;
    const reply = receive(s, sent.length);
    s.write(sent);
    expect((await reply).equals(sent)).toBe(true);
  });

  it("a cut refuses new connections and stalls open ones; heal delivers what waited", async () => {
    const proxy = await proxyTo(await echoServer(), () => 1);
    const open = await client(proxy.address);
    proxy.cut();
    const refused = tcpConnect(proxy.address);
    const outcome = await Promise.race([
      once(refused, "error").then(() => "error"),
      once(refused, "close").then(() => "closed"),
    ]);
    expect(["error", "closed"]).toContain(outcome);
    let received = "";
    open.on("data", (d: Buffer) => {
      received += d.toString();
    });
    open.write("held");
    await new Promise((r) => setTimeout(r, 150));
    expect(received).toBe("");
    proxy.heal();
    await new Promise((r) => setTimeout(r, 150));
    expect(received).toBe("held");
    const fresh = await client(proxy.address);
    const reply = receive(fresh, 2);
    fresh.write("ok");
    expect((await reply).toString()).toBe("ok");
  });

  it("a half-close reaches the server after the data before it", async () => {
    const proxy = await proxyTo(await echoServer(), () => 10);
    const s = await client(proxy.address);
    const reply = receive(s, 3);
    s.end("bye");
    expect((await reply).toString()).toBe("bye");
    await once(s, "close");
    for (let i = 0; i < 50 && proxy.openConnections > 0; i++) await new Promise((r) => setTimeout(r, 10));
    expect(proxy.openConnections).toBe(0);
  });
});
