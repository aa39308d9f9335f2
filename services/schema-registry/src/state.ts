// The registry's in-memory state, rebuilt only by applying `_schemas` records in log order (pure, no I/O).
// Record shapes follow Confluent's KafkaStore so the topic reads the same as one written by Confluent's server.
import { type CompatibilityLevel, isCompatibilityLevel, schemaIdentity } from "./avro.js";

export type RecordKey =
  | { keytype: "SCHEMA"; subject: string; version: number; magic: 1 }
  | { keytype: "CONFIG"; subject: string | null; magic: 0 }
  | { keytype: "NOOP"; magic: 0 };

export interface SchemaValue {
  subject: string;
  version: number;
  id: number;
  schema: string;
  schemaType?: string;
  deleted: boolean;
}

export interface ConfigValue {
  compatibilityLevel: CompatibilityLevel;
}

export interface SubjectVersion {
  subject: string;
  version: number;
  id: number;
  deleted: boolean;
}

export const DEFAULT_COMPATIBILITY: CompatibilityLevel = "BACKWARD";

/** Serializes a key the way Confluent does (fixed field order) so compaction sees equal keys as equal. */
export function encodeKey(key: RecordKey): string {
  switch (key.keytype) {
    case "SCHEMA":
      return JSON.stringify({ keytype: "SCHEMA", subject: key.subject, version: key.version, magic: 1 });
    case "CONFIG":
      return JSON.stringify({ keytype: "CONFIG", subject: key.subject, magic: 0 });
    case "NOOP":
      return JSON.stringify({ keytype: "NOOP", magic: 0 });
  }
}

export class RegistryState {
  private readonly schemasById = new Map<number, { schema: string; schemaType?: string }>();
  private readonly idByIdentity = new Map<string, number>();
  private readonly subjects = new Map<string, Map<number, SubjectVersion>>();
  private readonly configs = new Map<string | null, CompatibilityLevel>();
  private maxId = 0;

  /** Applies one record of the log. Unknown or malformed records are skipped (returns false), never fatal. */
  apply(rawKey: string, rawValue: string | null): boolean {
    let key: RecordKey;
    try {
      key = JSON.parse(rawKey) as RecordKey;
    } catch {
      return false;
    }
    if (key.keytype === "SCHEMA") return this.applySchema(key.subject, key.version, rawValue);
    if (key.keytype === "CONFIG") return this.applyConfig(key.subject, rawValue);
    return key.keytype === "NOOP";
  }

  private applySchema(subject: string, version: number, rawValue: string | null): boolean {
    const versions = this.subjects.get(subject) ?? new Map<number, SubjectVersion>();
    if (rawValue === null) {
      // Tombstone: a hard delete of that version; the id (schema text) stays resolvable.
      versions.delete(version);
      this.subjects.set(subject, versions);
      return true;
    }
    let value: SchemaValue;
    try {
      value = JSON.parse(rawValue) as SchemaValue;
    } catch {
      return false;
    }
    if (typeof value.id !== "number" || typeof value.schema !== "string") return false;
    if (!this.schemasById.has(value.id)) {
      this.schemasById.set(value.id, {
        schema: value.schema,
        ...(value.schemaType ? { schemaType: value.schemaType } : {}),
      });
      this.idByIdentity.set(schemaIdentity(value.schema), value.id);
    }
    this.maxId = Math.max(this.maxId, value.id);
    versions.set(version, { subject, version, id: value.id, deleted: value.deleted === true });
    this.subjects.set(subject, versions);
    return true;
  }

  private applyConfig(subject: string | null, rawValue: string | null): boolean {
    if (rawValue === null) {
      this.configs.delete(subject);
      return true;
    }
    try {
      const level = (JSON.parse(rawValue) as ConfigValue).compatibilityLevel;
      if (!isCompatibilityLevel(level)) return false;
      this.configs.set(subject, level);
      return true;
    } catch {
      return false;
    }
  }

  /** Subjects with at least one live (not soft-deleted) version, sorted. */
  subjectNames(): string[] {
    return [...this.subjects.entries()]
      .filter(([, versions]) => [...versions.values()].some((v) => !v.deleted))
      .map(([name]) => name)
      .sort();
  }

  /** Live versions of a subject, oldest first (empty when unknown). */
  liveVersions(subject: string): SubjectVersion[] {
    const versions = this.subjects.get(subject);
    if (!versions) return [];
    return [...versions.values()].filter((v) => !v.deleted).sort((a, b) => a.version - b.version);
  }

  schemaById(id: number): { schema: string; schemaType?: string } | undefined {
    return this.schemasById.get(id);
  }

  idOfSchema(schema: string): number | undefined {
    return this.idByIdentity.get(schemaIdentity(schema));
  }

  /** Every (subject, version) that uses the schema id, live versions only. */
  usagesOf(id: number): { subject: string; version: number }[] {
    const out: { subject: string; version: number }[] = [];
    for (const [subject, versions] of this.subjects) {
      for (const v of versions.values())
        if (v.id === id && !v.deleted) out.push({ subject, version: v.version });
    }
    return out;
  }

  nextId(): number {
    return this.maxId + 1;
  }

  /** Versions keep counting after deletes, as Confluent's do, so a version number is never reused. */
  nextVersion(subject: string): number {
    const versions = this.subjects.get(subject);
    if (!versions || versions.size === 0) return 1;
    return Math.max(...versions.keys()) + 1;
  }

  subjectConfig(subject: string): CompatibilityLevel | undefined {
    return this.configs.get(subject);
  }

  globalConfig(): CompatibilityLevel {
    return this.configs.get(null) ?? DEFAULT_COMPATIBILITY;
  }

  effectiveConfig(subject: string): CompatibilityLevel {
    return this.subjectConfig(subject) ?? this.globalConfig();
  }

  schemaCount(): number {
    return this.schemasById.size;
  }
}
