// HTTP front of the registry: Confluent's REST paths, JSON in and out, errors as {error_code, message}.
// Like every Meridian service it needs the bearer token (service-kit's check) on each route that changes
// state — register, delete, config — and on reads only when MERIDIAN_AUTH_READS is on.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { HttpAuth } from "@meridian/core";
import { type Access, authorize } from "@meridian/service-kit";
import type { Logger } from "pino";
import { RegistryError, routeNotFound, unprocessable } from "./errors.js";
import type { Registry } from "./registry.js";

const CONTENT_TYPE = "application/vnd.schemaregistry.v1+json";
const MAX_BODY_BYTES = 4 * 1024 * 1024;

type Handler = (ctx: {
  params: string[];
  body: unknown;
  query: URLSearchParams;
}) => unknown | Promise<unknown>;
interface Route {
  method: string;
  pattern: RegExp;
  handler: Handler;
  access: Access;
}

const seg = "([^/]+)";

function routes(registry: Registry, health: () => unknown): Route[] {
  const id = (s: string | undefined) => {
    const n = Number(s);
    if (!Number.isInteger(n) || n < 1) throw unprocessable(`invalid schema id '${s}'`);
    return n;
  };
  const obj = (b: unknown) => (b && typeof b === "object" ? (b as Record<string, unknown>) : {});
  // GET and the POSTs that only look something up are reads; the other POST, PUT and DELETE change state.
  const r = (method: string, path: string, handler: Handler, access: Access = "read"): Route => ({
    method,
    pattern: new RegExp(`^${path}/?$`),
    handler,
    access,
  });
  return [
    r("GET", "", () => ({}), "public"),
    r(
      "GET",
      "/healthz",
      () => {
        const h = health() as { status?: string };
        if (h.status !== "ok") throw new RegistryError(503, 50003, JSON.stringify(h));
        return h;
      },
      "public",
    ),
    r("GET", "/subjects", () => registry.subjects()),
    r("GET", `/subjects/${seg}/versions`, ({ params }) => registry.versions(params[0]!)),
    r(
      "POST",
      `/subjects/${seg}/versions`,
      ({ params, body }) => registry.register(params[0]!, obj(body)),
      "write",
    ),
    r("GET", `/subjects/${seg}/versions/${seg}/schema`, ({ params }) =>
      JSON.parse(registry.version(params[0]!, params[1]!).schema),
    ),
    r("GET", `/subjects/${seg}/versions/${seg}`, ({ params }) => registry.version(params[0]!, params[1]!)),
    r("POST", `/subjects/${seg}`, ({ params, body }) => registry.lookup(params[0]!, obj(body))),
    r("DELETE", `/subjects/${seg}`, ({ params }) => registry.deleteSubject(params[0]!), "write"),
    r("GET", "/schemas/types", () => ["AVRO"]),
    r("GET", `/schemas/ids/${seg}`, ({ params }) => registry.schemaById(id(params[0]))),
    r("GET", `/schemas/ids/${seg}/versions`, ({ params }) => registry.subjectsOfId(id(params[0]))),
    r("POST", `/compatibility/subjects/${seg}/versions/${seg}`, ({ params, body, query }) => {
      const res = registry.checkCompatibility(params[0]!, params[1]!, obj(body));
      return query.get("verbose") === "true" ? res : { is_compatible: res.is_compatible };
    }),
    r("GET", "/config", () => registry.globalConfig()),
    r("PUT", "/config", ({ body }) => registry.setConfig(null, obj(body)), "write"),
    r("GET", `/config/${seg}`, ({ params, query }) =>
      registry.subjectConfig(params[0]!, query.get("defaultToGlobal") === "true"),
    ),
    r("PUT", `/config/${seg}`, ({ params, body }) => registry.setConfig(params[0]!, obj(body)), "write"),
  ];
}

async function readBody(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) throw unprocessable("request body too large");
    chunks.push(chunk as Buffer);
  }
  if (size === 0) return undefined;
  try {
    return JSON.parse(Buffer.concat(chunks).toString("utf8"));
  } catch {
    throw new RegistryError(400, 400, "request body is not JSON");
  }
}

function send(
  res: ServerResponse,
  status: number,
  payload: unknown,
  headers: Record<string, string> = {},
): void {
  const body = JSON.stringify(payload);
  res.writeHead(status, {
    "content-type": CONTENT_TYPE,
    "content-length": Buffer.byteLength(body),
    ...headers,
    // A backend that is down comes back: tell clients when to retry (as every Meridian service does).
    ...(status === 503 ? { "retry-after": "1" } : {}),
  });
  res.end(body);
}

export function createRegistryServer(
  registry: Registry,
  logger: Logger,
  health: () => unknown,
  auth: HttpAuth | undefined,
): Server {
  const table = routes(registry, health);
  return createServer(async (req, res) => {
    const started = Date.now();
    const url = new URL(req.url ?? "/", "http://registry");
    const path = url.pathname.replace(/\/+$/, "");
    let status = 200;
    try {
      const route = table.find((rt) => rt.method === req.method && rt.pattern.test(path));
      if (!route) throw routeNotFound(`${req.method} ${path}`);
      const refused = authorize(route.access, req.headers.authorization, auth);
      if (refused) {
        status = 401;
        send(
          res,
          401,
          { error_code: 40101, message: refused.message },
          { "www-authenticate": refused.challenge },
        );
        req.resume(); // an unread body must not hold the connection
        return;
      }
      const params = (route.pattern.exec(path) ?? []).slice(1).map((p) => decodeURIComponent(p));
      const body = req.method === "POST" || req.method === "PUT" ? await readBody(req) : undefined;
      send(res, status, await route.handler({ params, body, query: url.searchParams }));
    } catch (err) {
      if (err instanceof RegistryError) {
        status = err.httpStatus;
        send(res, status, err.toJSON());
      } else {
        status = 500;
        logger.error({ err }, "unexpected error");
        send(res, 500, { error_code: 50001, message: (err as Error).message });
      }
    }
    logger.debug({ method: req.method, path, status, ms: Date.now() - started }, "request");
  });
}
