// The registry's operations (Confluent REST semantics) over RegistryState, writing through the Kafka log.
import type avsc from "avsc";
import {
  type CompatibilityLevel,
  compatibilityErrors,
  isCompatibilityLevel,
  parseAvro,
  schemaIdentity,
} from "./avro.js";
import {
  incompatibleSchema,
  invalidCompatibilityLevel,
  invalidSchema,
  invalidVersion,
  schemaNotFound,
  subjectConfigNotFound,
  subjectNotFound,
  versionNotFound,
} from "./errors.js";
import { encodeKey, type RegistryState, type SubjectVersion } from "./state.js";

/** Where writes go; the state changes only when the log hands the record back. */
export interface LogWriter {
  append(key: string, value: string | null): Promise<void>;
}

export interface SchemaBody {
  schema?: unknown;
  schemaType?: unknown;
  references?: unknown;
}

export interface VersionView {
  subject: string;
  id: number;
  version: number;
  schema: string;
}

export class Registry {
  private writeChain: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly state: RegistryState,
    private readonly log: LogWriter,
  ) {}

  /** Writes one at a time so id and version allocation never race. */
  private serialized<T>(fn: () => Promise<T>): Promise<T> {
    const next = this.writeChain.then(fn, fn);
    this.writeChain = next.catch(() => {});
    return next;
  }

  /** POST /subjects/:s/versions — idempotent: the same schema under the same subject returns its id. */
  async register(subject: string, body: SchemaBody): Promise<{ id: number }> {
    const { schema, type } = this.validBody(body);
    return this.serialized(async () => {
      const identity = schemaIdentity(schema);
      const live = this.state.liveVersions(subject);
      const existing = live.find((v) => schemaIdentity(this.schemaText(v.id)) === identity);
      if (existing) return { id: existing.id };

      const level = this.state.effectiveConfig(subject);
      const errors = compatibilityErrors(level, type, this.typesOf(live));
      if (errors.length > 0) throw incompatibleSchema(errors.join("; "));

      const id = this.state.idOfSchema(schema) ?? this.state.nextId();
      const version = this.state.nextVersion(subject);
      await this.log.append(
        encodeKey({ keytype: "SCHEMA", subject, version, magic: 1 }),
        JSON.stringify({ subject, version, id, schema, deleted: false }),
      );
      return { id };
    });
  }

  /** POST /subjects/:s — is this schema registered under the subject? */
  lookup(subject: string, body: SchemaBody): VersionView {
    const { schema } = this.validBody(body);
    const live = this.state.liveVersions(subject);
    if (live.length === 0) throw subjectNotFound(subject);
    const identity = schemaIdentity(schema);
    const found = live.find((v) => schemaIdentity(this.schemaText(v.id)) === identity);
    if (!found) throw schemaNotFound("not registered under this subject");
    return this.view(found);
  }

  schemaById(id: number): { schema: string } {
    const found = this.state.schemaById(id);
    if (!found) throw schemaNotFound(`id ${id}`);
    return { schema: found.schema };
  }

  subjectsOfId(id: number): { subject: string; version: number }[] {
    if (!this.state.schemaById(id)) throw schemaNotFound(`id ${id}`);
    return this.state.usagesOf(id);
  }

  subjects(): string[] {
    return this.state.subjectNames();
  }

  versions(subject: string): number[] {
    const live = this.state.liveVersions(subject);
    if (live.length === 0) throw subjectNotFound(subject);
    return live.map((v) => v.version);
  }

  version(subject: string, version: string): VersionView {
    return this.view(this.findVersion(subject, version));
  }

  /** POST /compatibility/subjects/:s/versions/:v — "latest" applies the subject's level to its history. */
  checkCompatibility(
    subject: string,
    version: string,
    body: SchemaBody,
  ): { is_compatible: boolean; messages: string[] } {
    const { type } = this.validBody(body);
    const level = this.state.effectiveConfig(subject);
    const live = this.state.liveVersions(subject);
    if (live.length === 0) throw subjectNotFound(subject);
    const against = version === "latest" ? live : [this.findVersion(subject, version)];
    const messages = compatibilityErrors(level, type, this.typesOf(against));
    return { is_compatible: messages.length === 0, messages };
  }

  /** DELETE /subjects/:s — soft delete: versions leave listings, ids stay resolvable. */
  deleteSubject(subject: string): Promise<number[]> {
    return this.serialized(async () => {
      const live = this.state.liveVersions(subject);
      if (live.length === 0) throw subjectNotFound(subject);
      for (const v of live) {
        await this.log.append(
          encodeKey({ keytype: "SCHEMA", subject, version: v.version, magic: 1 }),
          JSON.stringify({
            subject,
            version: v.version,
            id: v.id,
            schema: this.schemaText(v.id),
            deleted: true,
          }),
        );
      }
      return live.map((v) => v.version);
    });
  }

  globalConfig(): { compatibilityLevel: CompatibilityLevel } {
    return { compatibilityLevel: this.state.globalConfig() };
  }

  subjectConfig(subject: string, defaultToGlobal: boolean): { compatibilityLevel: CompatibilityLevel } {
    const level = this.state.subjectConfig(subject);
    if (level) return { compatibilityLevel: level };
    if (defaultToGlobal) return this.globalConfig();
    throw subjectConfigNotFound(subject);
  }

  /** PUT /config or /config/:s with { compatibility }. */
  async setConfig(
    subject: string | null,
    body: { compatibility?: unknown },
  ): Promise<{ compatibility: CompatibilityLevel }> {
    const level =
      typeof body.compatibility === "string" ? body.compatibility.toUpperCase() : body.compatibility;
    if (!isCompatibilityLevel(level)) throw invalidCompatibilityLevel(String(body.compatibility));
    return this.serialized(async () => {
      await this.log.append(
        encodeKey({ keytype: "CONFIG", subject, magic: 0 }),
        JSON.stringify({ compatibilityLevel: level }),
      );
      return { compatibility: level };
    });
  }

  private validBody(body: SchemaBody): { schema: string; type: avsc.Type } {
    if (typeof body.schema !== "string")
      throw invalidSchema("body must carry the schema as a string field 'schema'");
    if (body.schemaType !== undefined && body.schemaType !== null && body.schemaType !== "AVRO") {
      throw invalidSchema(
        `schemaType ${String(body.schemaType)} is not supported by this registry (AVRO only)`,
      );
    }
    if (Array.isArray(body.references) && body.references.length > 0) {
      throw invalidSchema("schema references are not supported by this registry");
    }
    return { schema: body.schema, type: parseAvro(body.schema) };
  }

  private findVersion(subject: string, version: string): SubjectVersion {
    const live = this.state.liveVersions(subject);
    if (live.length === 0) throw subjectNotFound(subject);
    if (version === "latest" || version === "-1") return live[live.length - 1]!;
    if (!/^[1-9]\d*$/.test(version)) throw invalidVersion(version);
    const found = live.find((v) => v.version === Number(version));
    if (!found) throw versionNotFound(subject, version);
    return found;
  }

  private schemaText(id: number): string {
    const s = this.state.schemaById(id);
    if (!s) throw schemaNotFound(`id ${id}`);
    return s.schema;
  }

  private typesOf(versions: readonly SubjectVersion[]): avsc.Type[] {
    return versions.map((v) => parseAvro(this.schemaText(v.id)));
  }

  private view(v: SubjectVersion): VersionView {
    return { subject: v.subject, id: v.id, version: v.version, schema: this.schemaText(v.id) };
  }
}
