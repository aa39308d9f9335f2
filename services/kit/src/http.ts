// A tiny HTTP layer on node:http shared by every service: routing by method + path pattern, JSON bodies,
// and one mapping from Meridian's typed errors to status codes, so every service answers errors alike.
import http from "node:http";
import type { AddressInfo } from "node:net";
import { InvalidInputError, MeridianError } from "@meridian/core";

export interface HttpRequest {
  method: string;
  path: string;
  params: Record<string, string>;
  query: URLSearchParams;
  /** Parsed JSON body; undefined when the request had none. */
  body: unknown;
}

export interface HttpResponse {
  status: number;
  body?: unknown;
  /** Raw text answers (Prometheus exposition); `body` is ignored when set. */
  text?: string;
  contentType?: string;
}

export type Handler = (req: HttpRequest) => Promise<HttpResponse> | HttpResponse;

interface Route {
  method: string;
  segments: string[];
  handler: Handler;
}

const MAX_BODY_BYTES = 1024 * 1024;

export class Router {
  private readonly routes: Route[] = [];

  /** `pattern` is a path like `/v1/:class/:key`; `:name` segments become params. */
  on(method: string, pattern: string, handler: Handler): this {
    this.routes.push({ method: method.toUpperCase(), segments: splitPath(pattern), handler });
    return this;
  }

  /** Finds the route; returns 404 / 405 answers when no route matches. */
  match(method: string, path: string): { handler: Handler; params: Record<string, string> } | HttpResponse {
    const parts = splitPath(path);
    let pathMatched = false;
    for (const route of this.routes) {
      const params = matchSegments(route.segments, parts);
      if (!params) continue;
      pathMatched = true;
      if (route.method === method.toUpperCase()) return { handler: route.handler, params };
    }
    return pathMatched
      ? errorResponse(405, "METHOD_NOT_ALLOWED", `method ${method} not allowed on ${path}`)
      : errorResponse(404, "NOT_FOUND", `no route for ${path}`);
  }
}

function splitPath(path: string): string[] {
  return path.split("/").filter((s) => s.length > 0);
}

function matchSegments(pattern: string[], parts: string[]): Record<string, string> | null {
  if (pattern.length !== parts.length) return null;
  const params: Record<string, string> = {};
  for (let i = 0; i < pattern.length; i++) {
    const p = pattern[i]!;
    const v = parts[i]!;
    if (p.startsWith(":")) {
      try {
        params[p.slice(1)] = decodeURIComponent(v);
      } catch {
        return null;
      }
    } else if (p !== v) return null;
  }
  return params;
}

export function errorResponse(
  status: number,
  code: string,
  message: string,
  details: Record<string, unknown> = {},
): HttpResponse {
  return { status, body: { error: { code, message, details } } };
}

/** Status code for each typed error; anything unknown is a 500. */
const STATUS_BY_CODE: Record<string, number> = {
  INVALID_INPUT: 400,
  SERIALIZATION: 400,
  STALE_VERSION: 409,
  STALE_FENCING_TOKEN: 409,
  CONSISTENCY_VIOLATION: 409,
  STALENESS_BOUND: 412,
  LOCK_TIMEOUT: 423,
  LOCK_NOT_HELD: 423,
  DEADLOCK: 409,
  CLOCK_DRIFT: 409,
  BACKEND_UNAVAILABLE: 503,
};

export function errorToResponse(err: unknown): HttpResponse {
  if (err instanceof MeridianError) {
    return errorResponse(STATUS_BY_CODE[err.code] ?? 500, err.code, err.message, { ...err.details });
  }
  const message = err instanceof Error ? err.message : String(err);
  return errorResponse(500, "INTERNAL", message);
}

async function readBody(req: http.IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    const buf = chunk as Buffer;
    size += buf.length;
    if (size > MAX_BODY_BYTES) throw new InvalidInputError(`request body exceeds ${MAX_BODY_BYTES} bytes`);
    chunks.push(buf);
  }
  if (size === 0) return undefined;
  const text = Buffer.concat(chunks).toString("utf8");
  try {
    return JSON.parse(text);
  } catch {
    throw new InvalidInputError("request body is not valid JSON");
  }
}

export interface StartedServer {
  server: http.Server;
  port: number;
  url: string;
  close(): Promise<void>;
}

export interface HttpLogger {
  error(obj: object, msg: string): void;
}

/** Starts an HTTP server for `router` on host:port (port 0 = pick a free one). */
export async function listen(
  router: Router,
  port: number,
  host: string,
  log?: HttpLogger,
): Promise<StartedServer> {
  const server = http.createServer((req, res) => {
    void handle(router, req, res, log);
  });
  // Keep-alive sockets would otherwise hold close() open for seconds.
  server.keepAliveTimeout = 1000;
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const actual = (server.address() as AddressInfo).port;
  return {
    server,
    port: actual,
    url: `http://${host}:${actual}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

async function handle(
  router: Router,
  req: http.IncomingMessage,
  res: http.ServerResponse,
  log?: HttpLogger,
): Promise<void> {
  let response: HttpResponse;
  try {
    const url = new URL(req.url ?? "/", "http://localhost");
    const found = router.match(req.method ?? "GET", url.pathname);
    if ("status" in found) {
      response = found;
    } else {
      const body = await readBody(req);
      response = await found.handler({
        method: req.method ?? "GET",
        path: url.pathname,
        params: found.params,
        query: url.searchParams,
        body,
      });
    }
  } catch (err) {
    response = errorToResponse(err);
    if (response.status >= 500) log?.error({ err, url: req.url }, "request failed");
  }
  if (response.text !== undefined) {
    res.writeHead(response.status, { "content-type": response.contentType ?? "text/plain; charset=utf-8" });
    res.end(response.text);
    return;
  }
  if (response.body === undefined) {
    res.writeHead(response.status);
    res.end();
    return;
  }
  res.writeHead(response.status, { "content-type": "application/json" });
  res.end(JSON.stringify(response.body));
}
