// The bearer token on every request to the schema registry: its register and config routes refuse
// callers without it, like every other Meridian service. Added as a middleware of the registry client,
// so the token is read from its Secret per request and never becomes part of a logged option.
import type { SchemaRegistry } from "@kafkajs/confluent-schema-registry";
import type { Secret } from "@meridian/core";

type Middlewares = NonNullable<ConstructorParameters<typeof SchemaRegistry>[0]["middlewares"]>;

export function bearerMiddlewares(token: Secret | undefined): Middlewares {
  if (!token) return [];
  return [
    () => ({
      request: (req) => req.enhance({ headers: { authorization: `Bearer ${token.reveal()}` } }),
    }),
  ];
}
