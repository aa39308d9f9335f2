// The region node's HTTP API: routes, their JSON schemas (checked by fastify before a handler runs, and
// published as the OpenAPI document in services/region-node/openapi.json) and who may call them.
// Values themselves are bounded by the kit's JSON limits (depth, string/array lengths) when parsed.
import {
  buildApp,
  type HttpRequest,
  type HttpResponse,
  Router,
  type RouteSchema,
} from "@meridian/service-kit";
import { DATA_CLASSES } from "./keyspace.js";

export const OPENAPI_INFO = {
  title: "Meridian region node",
  version: "1.0.0",
  description:
    "Reads and writes of one region's cache. Every read says how fresh it is. Writes need `Authorization: Bearer <MERIDIAN_AUTH_TOKEN>`; reads too when MERIDIAN_AUTH_READS=1.",
};

const classKeyParams = {
  type: "object",
  required: ["class", "key"],
  properties: {
    class: { type: "string", enum: [...DATA_CLASSES] },
    key: {
      type: "string",
      minLength: 1,
      maxLength: 256,
      pattern: "^[A-Za-z0-9][A-Za-z0-9:._\\-/@]*$",
      description:
        "Cache key; its prefix picks the CRDT of important data (pos:, counter:, set:, watch:, mv:)",
    },
  },
} as const;

const errorBody = {
  type: "object",
  properties: {
    error: {
      type: "object",
      properties: { code: { type: "string" }, message: { type: "string" }, details: { type: "object" } },
    },
  },
} as const;

const readSchema: RouteSchema = {
  summary: "Read a key, with its version, origin region and age",
  tags: ["cache"],
  params: classKeyParams,
  querystring: {
    type: "object",
    properties: {
      maxAgeMs: { type: "number", minimum: 0, description: "Refuse (412) a value older than this" },
      minVersion: {
        type: "string",
        maxLength: 4096,
        description: 'JSON: {"us-east":3} (important) or 3 (critical); refuse (412) an older value',
      },
    },
  },
  response: { 404: errorBody, 412: errorBody },
};

const writeSchema: RouteSchema = {
  summary: "Write a key",
  description:
    'critical / cacheable: {"value": <json>} (cacheable also "ttlMs"); important: {"value"} for registers, {"op":"increment"|"decrement","by":n} for counters, {"op":"add"|"remove","element"} for sets.',
  tags: ["cache"],
  params: classKeyParams,
  body: {
    type: "object",
    properties: {
      value: {},
      op: { type: "string", enum: ["increment", "decrement", "add", "remove"] },
      by: { type: "integer", minimum: 1 },
      element: {},
      ttlMs: { type: "integer", minimum: 1 },
    },
  },
  response: { 400: errorBody, 401: errorBody, 409: errorBody },
};

const accountId = {
  type: "string",
  minLength: 1,
  maxLength: 128,
  pattern: "^[A-Za-z0-9][A-Za-z0-9._-]*$",
} as const;
const amount = {
  type: "integer",
  minimum: 1,
  maximum: Number.MAX_SAFE_INTEGER,
  description: "Smallest currency unit",
} as const;

const transferSchema: RouteSchema = {
  summary: "Move an amount between two ledger accounts (critical data), fenced and atomic",
  description:
    "Takes both account locks in a fixed order (fencing tokens), then writes both balances (`ledger:<account>`) in one strong transaction. 409 INSUFFICIENT_FUNDS (nothing written) when `from` holds less than `amount`; 423 when a lock is not free within its wait bound.",
  tags: ["ledger"],
  body: {
    type: "object",
    required: ["from", "to", "amount"],
    additionalProperties: false,
    properties: { from: accountId, to: accountId, amount },
  },
  response: { 400: errorBody, 401: errorBody, 409: errorBody, 423: errorBody },
};

const depositSchema: RouteSchema = {
  summary: "Add an amount to a ledger account (how money enters the ledger), under its lock",
  tags: ["ledger"],
  body: {
    type: "object",
    required: ["account", "amount"],
    additionalProperties: false,
    properties: { account: accountId, amount },
  },
  response: { 400: errorBody, 401: errorBody, 409: errorBody, 423: errorBody },
};

export interface RegionNodeApi {
  read(req: HttpRequest): Promise<HttpResponse>;
  write(req: HttpRequest): Promise<HttpResponse>;
  transfer(req: HttpRequest): Promise<HttpResponse>;
  deposit(req: HttpRequest): Promise<HttpResponse>;
  info(): HttpResponse;
}

/** The /v1 routes (health and metrics are added by the service). */
export function regionNodeRouter(api: RegionNodeApi): Router {
  return new Router()
    .on("GET", "/v1/:class/:key", (req) => api.read(req), { schema: readSchema })
    .on("PUT", "/v1/:class/:key", (req) => api.write(req), { schema: writeSchema })
    .on("POST", "/v1/critical/transfer", (req) => api.transfer(req), { schema: transferSchema })
    .on("POST", "/v1/critical/deposit", (req) => api.deposit(req), { schema: depositSchema })
    .on("GET", "/v1/info", () => api.info(), {
      schema: { summary: "Which region and namespace this node serves", tags: ["node"] },
    });
}

/** The OpenAPI document of `router` (what the running node serves at /openapi.json). */
export async function openApiDocument(router: Router): Promise<unknown> {
  const app = await buildApp(router, { openapi: OPENAPI_INFO });
  await app.ready();
  const doc = app.swagger();
  await app.close();
  return doc;
}
