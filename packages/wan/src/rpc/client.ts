// The calling end of region-to-region RPC: one persistent connection (opened on first use, reopened after
// a failure), requests pipelined on it, each bounded by a timeout. A failure of the link is a typed
// BackendUnavailableError whose `outcome` says whether the request may have been executed ("unknown": it
// was sent) or certainly was not ("not-sent").
import { type Socket, connect as tcpConnect } from "node:net";
import { BackendUnavailableError } from "@meridian/core";
import type { Endpoint } from "../link-proxy.js";
import { fromWire, type WireError } from "./errors.js";
import { encodeFrame, FrameReader } from "./frames.js";

export interface RpcClientOptions {
  /** Where to connect (re-read on every reconnect, so a WAN address can change). */
  address: () => Endpoint;
  token: string;
  /** Label of the remote side in errors (its region). */
  peer: string;
  /** Default bound of one call (default 3000 ms). */
  timeoutMs?: number;
}

interface Pending {
  resolve: (v: unknown) => void;
  reject: (e: unknown) => void;
  timer: NodeJS.Timeout;
}

export class RpcClient {
  private socket: Socket | undefined;
  private connected: Promise<Socket> | undefined;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private closed = false;

  constructor(private readonly opts: RpcClientOptions) {}

  async call<T>(method: string, params: unknown, timeoutMs = this.opts.timeoutMs ?? 3000): Promise<T> {
    if (this.closed) throw this.unavailable("client closed", "not-sent");
    const deadline = Date.now() + timeoutMs;
    const socket = await this.connection(timeoutMs);
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(
        () => {
          this.pending.delete(id);
          reject(this.unavailable(`no answer within ${timeoutMs} ms`, "unknown"));
        },
        Math.max(0, deadline - Date.now()),
      );
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject, timer });
      socket.write(encodeFrame({ id, method, params, token: this.opts.token }));
    });
  }

  close(): void {
    this.closed = true;
    this.socket?.destroy();
    this.failAll("client closed");
  }

  private connection(timeoutMs: number): Promise<Socket> {
    if (this.socket && !this.socket.destroyed) return Promise.resolve(this.socket);
    this.connected ??= this.open(timeoutMs).finally(() => {
      this.connected = undefined;
    });
    return this.connected;
  }

  private open(timeoutMs: number): Promise<Socket> {
    return new Promise((resolve, reject) => {
      const socket = tcpConnect({ ...this.opts.address(), noDelay: true });
      const fail = (why: string): void => {
        socket.destroy();
        reject(this.unavailable(why, "not-sent"));
      };
      const timer = setTimeout(() => fail(`no connection within ${timeoutMs} ms`), timeoutMs);
      socket.once("connect", () => {
        clearTimeout(timer);
        this.attach(socket);
        resolve(socket);
      });
      socket.once("error", (err) => {
        clearTimeout(timer);
        fail(err.message);
      });
    });
  }

  private attach(socket: Socket): void {
    this.socket = socket;
    const reader = new FrameReader(
      (f) => this.answer(f as { id: number; result?: unknown; error?: WireError }),
      () => socket.destroy(),
    );
    socket.on("data", (d: Buffer) => reader.push(d));
    socket.on("error", () => socket.destroy());
    socket.on("close", () => {
      if (this.socket === socket) this.socket = undefined;
      this.failAll("connection closed");
    });
  }

  private answer(frame: { id: number; result?: unknown; error?: WireError }): void {
    const p = this.pending.get(frame.id);
    if (!p) return; // answered after its timeout: the caller already has an outcome
    this.pending.delete(frame.id);
    clearTimeout(p.timer);
    if (frame.error) p.reject(fromWire(frame.error));
    else p.resolve(frame.result);
  }

  private failAll(why: string): void {
    for (const [id, p] of this.pending) {
      clearTimeout(p.timer);
      p.reject(this.unavailable(why, "unknown"));
      this.pending.delete(id);
    }
  }

  private unavailable(why: string, outcome: "unknown" | "not-sent"): BackendUnavailableError {
    return new BackendUnavailableError(`region ${this.opts.peer} unreachable: ${why}`, {
      backend: "wan",
      region: this.opts.peer,
      outcome,
    });
  }
}
