// Avro with the Confluent wire format (magic byte 0, 4-byte schema id, Avro body) through a schema registry.
// Schemas live in schemas/<Name>.avsc and are registered under their full name (record-name strategy),
// so one topic can carry several record types and every consumer resolves the writer's schema by id.
// The bus imports them as a generated module (schemas.generated.ts, `pnpm gen:schemas`), so no file is
// read at a path relative to this source, in the workspace or in a bundle.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { SchemaRegistry, SchemaType } from "@kafkajs/confluent-schema-registry";
import {
  AuthenticationError,
  BackendUnavailableError,
  type CrdtType,
  configFromEnv,
  InvalidInputError,
  MeridianError,
  type Secret,
  SerializationError,
} from "@meridian/core";
import avsc from "avsc";
import { bearerMiddlewares } from "./registry-auth.js";
import { SCHEMA_TEXTS } from "./schemas.generated.js";

/** TypeScript shape of schemas/CacheUpdate.avsc. */
export interface CacheUpdate {
  key: string;
  kind: "UPDATE" | "ROLLBACK" | "INVALIDATE";
  crdtType: CrdtType;
  /** JSON of the CRDT state (core crdt toJSON()). */
  state: string;
  region: string;
  vectorClock: Record<string, number>;
  hlcWallMs: number;
  hlcLogical: number;
  hlcNode: string;
  producedAtMs: number;
}

/** TypeScript shape of schemas/Invalidation.avsc. */
export interface Invalidation {
  key: string;
  version: number;
  region: string;
  reason: "WRITE" | "DELETE" | "ROLLBACK" | "EVICT";
  hlcWallMs: number;
  hlcLogical: number;
  producedAtMs: number;
}

/** TypeScript shape of schemas/LockEvent.avsc. */
export interface LockEvent {
  lockKey: string;
  event: "ACQUIRED" | "RELEASED" | "RENEWED" | "EXPIRED" | "ESCALATED" | "DEADLOCK_VICTIM" | "TIMEOUT";
  owner: string;
  fencingToken: number | null;
  ttlMs: number | null;
  region: string;
  atMs: number;
}

/** TypeScript shape of schemas/MarketTick.avsc. */
export interface MarketTickRecord {
  symbol: string;
  price: number;
  bid: number;
  ask: number;
  volume: number;
  sequence: number;
  timestampMs: number;
}

const SCHEMA_NAME = /^[A-Za-z][A-Za-z0-9_]*$/;
const MAGIC_BYTE = 0;
const HEADER_BYTES = 5;

/**
 * The text of schemas/<name>.avsc — from the generated module, or from `<dir>/<name>.avsc` when a folder
 * is given (tests of schema evolution). Throws InvalidInputError for an unknown or malformed name.
 */
export function loadSchema(name: string, dir?: string): string {
  if (!SCHEMA_NAME.test(name)) throw new InvalidInputError(`invalid schema name '${name}'`);
  try {
    const text =
      dir !== undefined
        ? readFileSync(join(dir, `${name}.avsc`), "utf8")
        : Object.hasOwn(SCHEMA_TEXTS, name)
          ? SCHEMA_TEXTS[name]
          : undefined;
    if (text === undefined) throw new Error("no such schema in schemas/");
    JSON.parse(text);
    return text;
  } catch (err) {
    throw new InvalidInputError(`cannot load schema ${name}: ${(err as Error).message}`, { schema: name });
  }
}

/** The registry subject of a schema: its full record name (e.g. io.meridian.CacheUpdate). */
export function subjectOf(schemaText: string): string {
  const json = JSON.parse(schemaText) as { name?: string; namespace?: string };
  if (!json.name) throw new InvalidInputError("schema has no name");
  return json.name.includes(".") || !json.namespace ? json.name : `${json.namespace}.${json.name}`;
}

/** Splits a Confluent-framed message; throws SerializationError when it cannot be one. */
export function parseWireHeader(buf: unknown): { schemaId: number; payload: Buffer } {
  if (!Buffer.isBuffer(buf)) throw new SerializationError("message value is not a Buffer");
  if (buf.length < HEADER_BYTES)
    throw new SerializationError(`message too short (${buf.length} bytes) for the wire format`);
  if (buf[0] !== MAGIC_BYTE) throw new SerializationError(`unknown magic byte ${buf[0]} (expected 0)`);
  return { schemaId: buf.readInt32BE(1), payload: buf.subarray(HEADER_BYTES) };
}

/** avsc decodes records as class instances; hand callers plain data. */
function toPlain(value: unknown): unknown {
  if (value === null || typeof value !== "object" || Buffer.isBuffer(value)) return value;
  if (Array.isArray(value)) return value.map(toPlain);
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) out[k] = toPlain(v);
  return out;
}

function statusOf(err: unknown): number | undefined {
  const status = (err as { status?: unknown } | null)?.status;
  return typeof status === "number" ? status : undefined;
}

export class AvroSerde {
  readonly registry: SchemaRegistry;
  private readonly ids = new Map<string, Promise<number>>();
  private readonly texts = new Map<string, string>();
  private readonly readers = new Map<string, avsc.Type>();
  private readonly resolvers = new Map<string, avsc.Resolver | null>();

  constructor(
    readonly registryUrl: string,
    /** token: the registry's bearer token (default configFromEnv().schemaRegistryToken). */
    private readonly opts: { schemasDir?: string; token?: Secret } = {},
  ) {
    const token = opts.token ?? configFromEnv().schemaRegistryToken;
    this.registry = new SchemaRegistry({
      host: registryUrl,
      retry: { retries: 2 },
      middlewares: bearerMiddlewares(token),
    });
  }

  private schemaText(name: string): string {
    let text = this.texts.get(name);
    if (!text) {
      text = loadSchema(name, this.opts.schemasDir);
      this.texts.set(name, text);
    }
    return text;
  }

  /** Registers schemas/<name>.avsc once per serde (idempotent at the registry) and returns its id. */
  schemaId(name: string): Promise<number> {
    let id = this.ids.get(name);
    if (!id) {
      const text = this.schemaText(name);
      id = this.registry
        .register({ type: SchemaType.AVRO, schema: text }, { subject: subjectOf(text) })
        .then((r) => r.id)
        .catch((err: unknown) => {
          this.ids.delete(name); // let a later call retry
          const status = statusOf(err);
          // 409/422: the registry refused the schema; the client's own errors (e.g. the subject is
          // configured with another compatibility level) carry no status. Network failures come as 400/5xx.
          const clientSide =
            status === undefined && /^ConfluentSchemaRegistry/.test((err as Error).name ?? "");
          if (status === 401 || status === 403) {
            throw new AuthenticationError(
              `schema registry refused this client's token: ${(err as Error).message}`,
              {
                backend: "schema-registry",
              },
            );
          }
          if (status === 409 || status === 422 || clientSide) {
            throw new SerializationError(`registry refused schema ${name}: ${(err as Error).message}`, {
              schema: name,
            });
          }
          throw new BackendUnavailableError(`schema registry unavailable: ${(err as Error).message}`, {
            backend: "schema-registry",
          });
        });
      this.ids.set(name, id);
    }
    return id;
  }

  /** Encodes `value` with schemas/<name>.avsc in the Confluent wire format. */
  async encode(name: string, value: unknown): Promise<Buffer> {
    const id = await this.schemaId(name);
    try {
      return await this.registry.encode(id, value);
    } catch (err) {
      throw new SerializationError(`value does not match schema ${name}: ${(err as Error).message}`, {
        schema: name,
        paths: (err as { paths?: unknown }).paths,
      });
    }
  }

  /**
   * Decodes a Confluent-framed message with the writer's schema (fetched by id). With `readerSchema`
   * (a name in schemas/), the value is resolved into that schema, which fails for another record type.
   */
  async decode(buf: Buffer, readerSchema?: string): Promise<unknown> {
    const { schemaId, payload } = parseWireHeader(buf);
    // Fetch the writer schema on its own first, so "unknown id" and "registry down" are told apart
    // from bytes that do not decode. The client caches it by id.
    let writer: avsc.Type;
    try {
      writer = (await this.registry.getSchema(schemaId)) as unknown as avsc.Type;
    } catch (err) {
      if (statusOf(err) === 404) throw new SerializationError(`unknown schema id ${schemaId}`, { schemaId });
      if (err instanceof Error && !("status" in err)) {
        throw new SerializationError(`schema ${schemaId} is unusable: ${err.message}`, { schemaId });
      }
      throw new BackendUnavailableError(`schema registry unavailable: ${(err as Error).message}`, {
        backend: "schema-registry",
      });
    }
    try {
      if (!readerSchema) return toPlain(writer.fromBuffer(payload));
      const { reader, resolver } = this.resolverFor(readerSchema, schemaId, writer);
      return toPlain(resolver ? reader.fromBuffer(payload, resolver) : reader.fromBuffer(payload));
    } catch (err) {
      if (err instanceof MeridianError) throw err;
      throw new SerializationError(`cannot decode message: ${(err as Error).message}`, { schemaId });
    }
  }

  /**
   * The reader type of a local schema and its resolver from a writer schema id, built once: building avsc
   * types per message cost ~1 ms per decode. A writer the reader cannot resolve is a SerializationError.
   */
  private resolverFor(name: string, schemaId: number, writer: avsc.Type) {
    let reader = this.readers.get(name);
    if (!reader) {
      reader = avsc.Type.forSchema(JSON.parse(this.schemaText(name)) as avsc.Schema);
      this.readers.set(name, reader);
    }
    const key = `${name}#${schemaId}`;
    if (!this.resolvers.has(key)) {
      try {
        this.resolvers.set(key, reader.equals(writer) ? null : reader.createResolver(writer));
      } catch (err) {
        throw new SerializationError(
          `schema id ${schemaId} cannot be read as ${name}: ${(err as Error).message}`,
          {
            schemaId,
            schema: name,
          },
        );
      }
    }
    return { reader, resolver: this.resolvers.get(key) ?? undefined };
  }

  encodeCacheUpdate(u: CacheUpdate): Promise<Buffer> {
    return this.encode("CacheUpdate", u);
  }

  async decodeCacheUpdate(buf: Buffer): Promise<CacheUpdate> {
    return (await this.decode(buf, "CacheUpdate")) as CacheUpdate;
  }
}
