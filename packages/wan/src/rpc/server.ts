// The serving end of region-to-region RPC: frames in, one handler call per request, frames out. Every
// request carries the cluster's shared token; a request without it is answered with PeerAuthError and
// never reaches the handler.
import { createHash, timingSafeEqual } from "node:crypto";
import { createServer, type Server, type Socket } from "node:net";
import { PeerAuthError } from "../homes/errors.js";
import type { Endpoint } from "../link-proxy.js";
import { toWire } from "./errors.js";
import { encodeFrame, FrameReader } from "./frames.js";

export type RpcHandler = (method: string, params: unknown) => Promise<unknown>;

export interface RpcServerOptions {
  token: string;
  handle: RpcHandler;
  host?: string;
  port?: number;
}

export interface RpcServer {
  readonly address: Endpoint;
  stop(): Promise<void>;
}

const digest = (s: string): Buffer => createHash("sha256").update(s).digest();

function validRequest(f: unknown): f is { id: number; method: string; params?: unknown; token?: unknown } {
  const r = f as { id?: unknown; method?: unknown };
  return typeof r === "object" && r !== null && Number.isSafeInteger(r.id) && typeof r.method === "string";
}

export async function startRpcServer(opts: RpcServerOptions): Promise<RpcServer> {
  const expected = digest(opts.token);
  const authorized = (token: unknown): boolean =>
    typeof token === "string" && timingSafeEqual(digest(token), expected);
  const sockets = new Set<Socket>();

  const serve = (socket: Socket): void => {
    sockets.add(socket);
    socket.setNoDelay(true);
    const reply = (frame: unknown): void => {
      if (!socket.destroyed) socket.write(encodeFrame(frame));
    };
    const reader = new FrameReader(
      (frame) => {
        if (!validRequest(frame)) return void socket.destroy();
        if (!authorized(frame.token)) {
          return reply({ id: frame.id, error: toWire(new PeerAuthError("bad or missing cluster token")) });
        }
        opts.handle(frame.method, frame.params).then(
          (result) => reply({ id: frame.id, result: result ?? null }),
          (err: unknown) => reply({ id: frame.id, error: toWire(err) }),
        );
      },
      () => socket.destroy(), // a peer speaking garbage is cut off
    );
    socket.on("data", (d: Buffer) => reader.push(d));
    socket.on("error", () => socket.destroy());
    socket.on("close", () => sockets.delete(socket));
  };

  const server: Server = createServer(serve);
  const host = opts.host ?? "127.0.0.1";
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(opts.port ?? 0, host, () => resolve());
  });
  const port = (server.address() as { port: number }).port;
  return {
    address: { host, port },
    async stop() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
