// A TCP proxy for fault tests that can cut a client off from its server the way a dead host or a network
// partition does: nothing is forwarded any more and NO close reaches the client — its connections stay
// open and silent, so it notices only through its own timeouts. `heal()` then resets those connections
// (as TCP keepalive eventually would) and new ones reach the server again.
import { connect, createServer, type Server, type Socket } from "node:net";

export interface TcpProxy {
  readonly port: number;
  readonly url: string;
  /** Stop forwarding in both directions; the server going away is not passed on either. */
  partition(): void;
  /** Reset every connection cut off by partition() and forward new ones again. */
  heal(): void;
  close(): Promise<void>;
}

/** Proxies 127.0.0.1:<free port> → 127.0.0.1:`targetPort`. `scheme` only shapes `url`. */
export async function startTcpProxy(targetPort: number, scheme = "redis"): Promise<TcpProxy> {
  let partitioned = false;
  const pairs = new Set<{ client: Socket; upstream: Socket }>();
  const server: Server = createServer((client) => {
    if (partitioned) return; // accepted, never answered: a connect to a dead host
    const upstream = connect(targetPort, "127.0.0.1");
    const pair = { client, upstream };
    pairs.add(pair);
    const forward = (from: Socket, to: Socket) =>
      from.on("data", (chunk) => {
        if (!partitioned) to.write(chunk);
      });
    forward(client, upstream);
    forward(upstream, client);
    const end = () => {
      if (partitioned) return; // the client must not learn that the server went away
      pairs.delete(pair);
      client.destroy();
      upstream.destroy();
    };
    for (const s of [client, upstream]) {
      s.on("error", () => {});
      s.on("close", end);
    }
  });
  const held = new Set<Socket>();
  server.on("connection", (s) => held.add(s.on("close", () => held.delete(s))));
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as { port: number }).port;
  return {
    port,
    url: `${scheme}://127.0.0.1:${port}`,
    partition() {
      partitioned = true;
    },
    heal() {
      partitioned = false;
      for (const s of held) s.destroy();
      for (const { upstream } of pairs) upstream.destroy();
      pairs.clear();
    },
    async close() {
      for (const s of held) s.destroy();
      for (const { upstream } of pairs) upstream.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
