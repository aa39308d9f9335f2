// The HTTP layer every service shares, on fastify: services declare routes on a Router (method, path
// pattern, handler, JSON schema, who may call it) and `listen` serves them with fastify's routing,
// schema validation (ajv), body limit and timeouts, a JSON parser that refuses deep nesting before it
// parses, bearer-token authentication, and one mapping from Meridian's typed errors to status codes.
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import swagger from "@fastify/swagger";
import {
  DEFAULT_JSON_LIMITS,
  type HttpAuth,
  type JsonLimits,
  MeridianError,
  parseJsonBounded,
} from "@meridian/core";
import Fastify, {
  type FastifyError,
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
} from "fastify";
import { type Access, authorize } from "./auth.js";

export type { Access } from "./auth.js";

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
  /** Extra response headers (e.g. Retry-After on a 503). */
  headers?: Record<string, string>;
}

export type Handler = (req: HttpRequest) => Promise<HttpResponse> | HttpResponse;

/** JSON schemas of a route's parts (validated by fastify before the handler runs; published in OpenAPI). */
export interface RouteSchema {
  params?: object;
  querystring?: object;
  body?: object;
  response?: Record<number, object>;
  summary?: string;
  description?: string;
  tags?: string[];
}

export interface RouteOptions {
  schema?: RouteSchema;
  /** Who may call it: "public" (health), "read" (token only with reads on), "write" (always a token). Default by method. */
  access?: Access;
}

export interface Route {
  method: string;
  pattern: string;
  handler: Handler;
  options: RouteOptions;
}

/** The routes of a service; `listen` serves them. `pattern` is a path like `/v1/:class/:key`. */
export class Router {
  private readonly table: Route[] = [];

  on(method: string, pattern: string, handler: Handler, options: RouteOptions = {}): this {
    this.table.push({ method: method.toUpperCase(), pattern, handler, options });
    return this;
  }

  routes(): readonly Route[] {
    return this.table;
  }

  /** Whether some route has this path under another method (405 rather than 404). */
  hasPath(path: string): boolean {
    const parts = splitPath(path);
    return this.table.some((r) => {
      const segs = splitPath(r.pattern);
      return segs.length === parts.length && segs.every((s, i) => s.startsWith(":") || s === parts[i]);
    });
  }
}

function splitPath(path: string): string[] {
  return path.split("/").filter((s) => s.length > 0);
}

export interface HttpLimits {
  /** Largest request body (default 1 MiB). */
  bodyBytes: number;
  /** Whole request, headers and body, must arrive within this (default 10 s): cuts slowloris bodies. */
  requestTimeoutMs: number;
  /** Headers must arrive within this (default 5 s). */
  headersTimeoutMs: number;
  /** A socket idle this long is closed (default 10 s). */
  idleTimeoutMs: number;
  /** Keep-alive sockets close after this idle time (default 5 s). */
  keepAliveTimeoutMs: number;
  /** Requests served on one keep-alive socket before it is closed (default 1,000). */
  maxRequestsPerSocket: number;
  /** How often Node checks request/header timeouts (default 1 s; Node's own is 30 s). */
  timeoutCheckIntervalMs: number;
  json: JsonLimits;
}

export const DEFAULT_HTTP_LIMITS: Readonly<HttpLimits> = Object.freeze({
  bodyBytes: 1024 * 1024,
  requestTimeoutMs: 10_000,
  headersTimeoutMs: 5_000,
  idleTimeoutMs: 10_000,
  keepAliveTimeoutMs: 5_000,
  maxRequestsPerSocket: 1_000,
  timeoutCheckIntervalMs: 1_000,
  json: DEFAULT_JSON_LIMITS,
});

export interface ServeOptions {
  /** Bearer token policy (configFromEnv().httpAuth). Without a token, write routes answer 401. */
  auth?: HttpAuth;
  limits?: Partial<HttpLimits>;
  /** Publishes the routes as an OpenAPI 3 document at GET /openapi.json. */
  openapi?: { title: string; version: string; description?: string };
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
  INSUFFICIENT_FUNDS: 409,
  CONSISTENCY_VIOLATION: 409,
  STALENESS_BOUND: 412,
  LOCK_TIMEOUT: 423,
  LOCK_NOT_HELD: 423,
  DEADLOCK: 409,
  CLOCK_DRIFT: 409,
  BACKEND_UNAVAILABLE: 503,
  OVERLOADED: 503,
};

/** Retry-After (whole seconds) for a retriable 503: the error's own hint, else one second. */
function retryAfterSeconds(err: MeridianError): string {
  const hintMs = Number(err.details.retryAfterMs);
  return String(Number.isFinite(hintMs) && hintMs > 0 ? Math.ceil(hintMs / 1000) : 1);
}

export function errorToResponse(err: unknown): HttpResponse {
  if (err instanceof MeridianError) {
    const res = errorResponse(STATUS_BY_CODE[err.code] ?? 500, err.code, err.message, { ...err.details });
    // Overload and a backend down are temporary: tell clients when to come back instead of hammering.
    if (res.status === 503) res.headers = { "retry-after": retryAfterSeconds(err) };
    return res;
  }
  const fastifyErr = err as Partial<FastifyError>;
  if (fastifyErr.validation) return validationResponse(fastifyErr as FastifyError);
  if (fastifyErr.code === "FST_ERR_CTP_BODY_TOO_LARGE") {
    return errorResponse(413, "INVALID_INPUT", fastifyErr.message ?? "body too large", { field: "body" });
  }
  if (typeof fastifyErr.statusCode === "number" && fastifyErr.statusCode < 500) {
    return errorResponse(fastifyErr.statusCode, "INVALID_INPUT", fastifyErr.message ?? "bad request", {
      field: "request",
    });
  }
  const message = err instanceof Error ? err.message : String(err);
  return errorResponse(500, "INTERNAL", message);
}

/**
 * ajv's first error as a 400 naming the field as handlers do: the property path inside the part
 * (`class`, `by`, `items.0.name`), or the part itself (`body`) when the whole part is wrong.
 */
function validationResponse(err: FastifyError): HttpResponse {
  const first = err.validation![0]!;
  const part = err.validationContext ?? "request";
  const missing = (first.params as { missingProperty?: string }).missingProperty;
  const segments = [...first.instancePath.split("/").filter(Boolean), ...(missing ? [missing] : [])];
  const field = segments.length ? segments.join(".") : part;
  const message = `${part}${segments.length ? `.${field}` : ""} ${first.message ?? "is invalid"}`;
  return errorResponse(400, "INVALID_INPUT", message, { field });
}

export interface StartedServer {
  server: Server;
  app: FastifyInstance;
  port: number;
  url: string;
  close(): Promise<void>;
}

export interface HttpLogger {
  error(obj: object, msg: string): void;
}

/** Builds the fastify app for `router` without listening (also used to print its OpenAPI document). */
export async function buildApp(
  router: Router,
  opts: ServeOptions = {},
  log?: HttpLogger,
): Promise<FastifyInstance> {
  const limits = { ...DEFAULT_HTTP_LIMITS, ...opts.limits };
  const app = Fastify({
    logger: false,
    bodyLimit: limits.bodyBytes,
    connectionTimeout: limits.idleTimeoutMs,
    keepAliveTimeout: limits.keepAliveTimeoutMs,
    requestTimeout: limits.requestTimeoutMs,
    maxRequestsPerSocket: limits.maxRequestsPerSocket,
    return503OnClosing: true,
    http: {
      headersTimeout: limits.headersTimeoutMs,
      connectionsCheckingInterval: limits.timeoutCheckIntervalMs,
    },
    ajv: { customOptions: { allErrors: false, removeAdditional: false, coerceTypes: "array" } },
  });
  // Every body is JSON whatever its declared type (curl sends form types by default); depth is checked
  // on the text before parsing, so deep nesting is a 400 and never reaches recursive code.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser("*", { parseAs: "string" }, (_req, text, done) => {
    try {
      const body = text as string;
      done(null, body.length === 0 ? undefined : parseJsonBounded(body, "body", limits.json));
    } catch (err) {
      done(err as Error, undefined);
    }
  });
  if (opts.openapi) await registerOpenApi(app, opts.openapi);
  for (const route of router.routes()) registerRoute(app, route, opts.auth);
  app.setNotFoundHandler((req, reply) => {
    const path = new URL(req.url, "http://x").pathname;
    const res = router.hasPath(path)
      ? errorResponse(405, "METHOD_NOT_ALLOWED", `method ${req.method} not allowed on ${path}`)
      : errorResponse(404, "NOT_FOUND", `no route for ${path}`);
    return send(reply, res);
  });
  app.setErrorHandler((err, req, reply) => {
    const res = errorToResponse(err);
    if (res.status >= 500) log?.error({ err, url: req.url }, "request failed");
    return send(reply, res);
  });
  return app;
}

async function registerOpenApi(
  app: FastifyInstance,
  info: NonNullable<ServeOptions["openapi"]>,
): Promise<void> {
  await app.register(swagger, {
    openapi: {
      openapi: "3.0.3",
      info,
      components: { securitySchemes: { bearer: { type: "http", scheme: "bearer" } } },
    },
  });
  app.get("/openapi.json", { schema: { hide: true } }, async () => app.swagger());
}

function registerRoute(app: FastifyInstance, route: Route, auth: HttpAuth | undefined): void {
  const access: Access =
    route.options.access ?? (route.method === "GET" || route.method === "HEAD" ? "read" : "write");
  const { summary, description, tags, ...parts } = route.options.schema ?? {};
  const schema: Record<string, unknown> = { ...parts };
  if (summary) schema.summary = summary;
  if (description) schema.description = description;
  if (tags) schema.tags = tags;
  if (access === "write" || (access === "read" && auth?.reads)) schema.security = [{ bearer: [] }];
  app.route({
    method: route.method as "GET",
    url: route.pattern,
    schema,
    onRequest: async (req, reply) => {
      const refused = authorize(access, req.headers.authorization, auth);
      if (refused) {
        reply.header("www-authenticate", refused.challenge);
        await send(reply, errorResponse(401, "UNAUTHORIZED", refused.message));
      }
    },
    handler: async (req, reply) => send(reply, await route.handler(toHttpRequest(req))),
  });
}

function toHttpRequest(req: FastifyRequest): HttpRequest {
  const url = new URL(req.url, "http://x");
  return {
    method: req.method,
    path: url.pathname,
    params: (req.params ?? {}) as Record<string, string>,
    query: url.searchParams,
    body: req.body,
  };
}

function send(reply: FastifyReply, res: HttpResponse): FastifyReply {
  reply.code(res.status);
  if (res.headers) reply.headers(res.headers);
  if (res.text !== undefined)
    return reply.type(res.contentType ?? "text/plain; charset=utf-8").send(res.text);
  if (res.body === undefined) return reply.send();
  return reply.type("application/json").send(JSON.stringify(res.body));
}

/** Serves `router` on host:port (port 0 = pick a free one). */
export async function listen(
  router: Router,
  port: number,
  host: string,
  log?: HttpLogger,
  opts: ServeOptions = {},
): Promise<StartedServer> {
  const app = await buildApp(router, opts, log);
  await app.listen({ port, host });
  const actual = (app.server.address() as AddressInfo).port;
  return {
    server: app.server,
    app,
    port: actual,
    url: `http://${host}:${actual}`,
    close: async () => {
      // Keep-alive sockets would otherwise hold close() open for seconds.
      app.server.closeAllConnections();
      await app.close();
    },
  };
}
