// A TCP proxy standing for one directed WAN link (clients in region `from` → a server in region `to`).
// Every connection pays the link's one-way delay in each direction. A cut link refuses new connections
// (reset on accept) and stalls the open ones without closing them, like a route that went dark; healing
// lets the stalled bytes through.
import { createServer, type Server, type Socket, connect as tcpConnect } from "node:net";
import { DelayPipe } from "./delay-pipe.js";

export interface Endpoint {
  host: string;
  port: number;
}

export interface LinkProxyOptions {
  /** The real server behind the link. */
  upstream: Endpoint;
  /** One-way delay in ms, read for every chunk (so latency changes apply at once). */
  delayMs: () => number;
  /** Listen host (default 127.0.0.1); the port is chosen by the OS. */
  host?: string;
}

interface Connection {
  client: Socket;
  server: Socket;
  pipes: [DelayPipe, DelayPipe];
}

export class LinkProxy {
  private readonly server: Server;
  private readonly connections = new Set<Connection>();
  private cutState = false;
  private listening: Endpoint | undefined;

  constructor(private readonly opts: LinkProxyOptions) {
    this.server = createServer({ pauseOnConnect: true, allowHalfOpen: true }, (client) =>
      this.accept(client),
    );
  }

  /** Starts listening; resolves with the address clients use instead of the upstream's. */
  async start(): Promise<Endpoint> {
    const host = this.opts.host ?? "127.0.0.1";
    await new Promise<void>((resolve, reject) => {
      this.server.once("error", reject);
      this.server.listen(0, host, () => resolve());
    });
    const addr = this.server.address();
    if (addr === null || typeof addr === "string") throw new Error("proxy has no TCP address");
    this.listening = { host, port: addr.port };
    return this.listening;
  }

  get address(): Endpoint {
    if (!this.listening) throw new Error("proxy not started");
    return this.listening;
  }

  get isCut(): boolean {
    return this.cutState;
  }

  get openConnections(): number {
    return this.connections.size;
  }

  cut(): void {
    this.cutState = true;
    for (const c of this.connections) for (const p of c.pipes) p.hold();
  }

  heal(): void {
    this.cutState = false;
    for (const c of this.connections) for (const p of c.pipes) p.release();
  }

  async stop(): Promise<void> {
    for (const c of this.connections) this.drop(c);
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private accept(client: Socket): void {
    if (this.cutState) {
      client.resetAndDestroy();
      return;
    }
    client.setNoDelay(true);
    const server = tcpConnect({ ...this.opts.upstream, noDelay: true, allowHalfOpen: true });
    const pipes: [DelayPipe, DelayPipe] = [
      new DelayPipe(client, server, this.opts.delayMs),
      new DelayPipe(server, client, this.opts.delayMs),
    ];
    const conn: Connection = { client, server, pipes };
    this.connections.add(conn);
    // A socket that errs takes the connection down at once; a clean close of one side waits for the
    // other, so bytes still crossing the link toward it are delivered first.
    const fail = (): void => this.drop(conn);
    const closed = (): void => {
      if (client.destroyed && server.destroyed) this.drop(conn);
    };
    client.on("error", fail).on("close", closed);
    server.on("error", fail).on("close", closed);
  }

  private drop(conn: Connection): void {
    if (!this.connections.delete(conn)) return;
    for (const p of conn.pipes) p.close();
    conn.client.destroy();
    conn.server.destroy();
  }
}
