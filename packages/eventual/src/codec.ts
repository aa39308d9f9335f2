// Validation and (de)serialization of entries and updates. Pure: everything that can be wrong with
// input is found here, before anything touches Redis, so bad input loses nothing.
import { createHash } from "node:crypto";
import {
  type AnyCrdt,
  type CrdtJson,
  type CrdtType,
  canonicalJson,
  crdtFromJSON,
  DEFAULT_JSON_LIMITS,
  type HlcTimestamp,
  InvalidInputError,
  isCrdtType,
  parseJsonBounded,
  SerializationError,
  VectorClock,
  validateHlc,
} from "@meridian/core";
import { MAX_KEY_LENGTH } from "./keys.js";
import type { CacheUpdate, StoredEntry, UpdateKind } from "./types.js";

const KINDS: readonly UpdateKind[] = ["UPDATE", "ROLLBACK", "INVALIDATE"];

// A record's CRDT state wraps a user value (whose own depth the write path bounds) in a few levels of
// its own; sizes are bounded by the record size, depth must be bounded because CRDT code recurses.
const STATE_JSON_LIMITS = {
  ...DEFAULT_JSON_LIMITS,
  maxDepth: DEFAULT_JSON_LIMITS.maxDepth + 16,
  maxStringLength: Number.MAX_SAFE_INTEGER,
  maxArrayLength: Number.MAX_SAFE_INTEGER,
  maxObjectKeys: Number.MAX_SAFE_INTEGER,
};

export function validateKey(key: unknown): string {
  if (typeof key !== "string" || key.length === 0 || key.length > MAX_KEY_LENGTH) {
    throw new InvalidInputError(`cache key must be a string of 1..${MAX_KEY_LENGTH} characters`, { key });
  }
  return key;
}

function validateRegion(region: unknown, what: string): string {
  if (typeof region !== "string" || region.length === 0) {
    throw new InvalidInputError(`${what} must be a non-empty string`, { region });
  }
  return region;
}

/**
 * A state's JSON texts, made at most once per state: a written state is encoded for the entry, hashed for
 * the digest and encoded again for the update, and `toJSON` rebuilds its objects every call. CRDT states
 * are immutable, so the texts of one object never change.
 */
interface StateTexts {
  json?: CrdtJson;
  text?: string;
  canonical?: string;
}
const stateTexts = new WeakMap<AnyCrdt, StateTexts>();

function textsOf(crdt: AnyCrdt): StateTexts {
  let t = stateTexts.get(crdt);
  if (!t) {
    t = {};
    stateTexts.set(crdt, t);
  }
  return t;
}

function jsonOf(crdt: AnyCrdt, t: StateTexts): CrdtJson {
  t.json ??= crdt.toJSON();
  return t.json;
}

/** Records `text` as stateText(crdt) for a state whose JSON text was already made (the LWW script's). */
export function primeStateText(crdt: AnyCrdt, text: string): void {
  textsOf(crdt).text = text;
}

/** JSON.stringify(crdt.toJSON()), cached per state. */
export function stateText(crdt: AnyCrdt): string {
  const t = textsOf(crdt);
  t.text ??= JSON.stringify(jsonOf(crdt, t));
  return t.text;
}

function canonicalStateText(crdt: AnyCrdt): string {
  const t = textsOf(crdt);
  t.canonical ??= canonicalJson(jsonOf(crdt, t));
  return t.canonical;
}

/** Content digest of an entry: CRDT state + clock. Metadata (HLC, updatedAtMs) is left out on purpose. */
export function digestOf(entry: StoredEntry): string {
  return createHash("sha1")
    .update(`${entry.crdt.type}|${entry.clock.encode()}|${canonicalStateText(entry.crdt)}`)
    .digest("hex");
}

function parseCrdt(state: unknown, expected?: CrdtType): AnyCrdt {
  const crdt = crdtFromJSON(state);
  if (expected !== undefined && crdt.type !== expected) {
    throw new InvalidInputError("CRDT state type differs from the declared crdtType", {
      declared: expected,
      actual: crdt.type,
    });
  }
  return crdt;
}

/** Turns a (possibly hostile) CacheUpdate into an entry; InvalidInputError for anything malformed. */
export function entryFromUpdate(
  update: unknown,
  nowMs: number,
): { key: string; kind: UpdateKind; entry: StoredEntry } {
  if (update === null || typeof update !== "object") {
    throw new InvalidInputError("update must be an object", { update });
  }
  const u = update as Partial<Record<keyof CacheUpdate, unknown>>;
  const key = validateKey(u.key);
  if (typeof u.kind !== "string" || !(KINDS as readonly string[]).includes(u.kind)) {
    throw new InvalidInputError("update kind must be UPDATE, ROLLBACK or INVALIDATE", { kind: u.kind });
  }
  const kind = u.kind as UpdateKind;
  if (!isCrdtType(u.crdtType)) throw new InvalidInputError("unknown crdtType", { crdtType: u.crdtType });
  if (typeof u.state !== "string") throw new InvalidInputError("update state must be a JSON string", { key });
  const stateJson = parseJsonBounded(u.state, "state", STATE_JSON_LIMITS);
  const crdt = parseCrdt(stateJson, u.crdtType);
  const region = validateRegion(u.region, "update region");
  if (u.vectorClock === null || typeof u.vectorClock !== "object" || Array.isArray(u.vectorClock)) {
    throw new InvalidInputError("update vectorClock must be an object", { key });
  }
  const clock = VectorClock.from(u.vectorClock as Record<string, number>);
  const hlc = validateHlc({ wallMs: u.hlcWallMs, logical: u.hlcLogical, node: u.hlcNode });
  return { key, kind, entry: { crdt, clock, hlc, region, updatedAtMs: nowMs } };
}

export function updateFromEntry(
  key: string,
  entry: StoredEntry,
  kind: UpdateKind,
  region: string,
  nowMs: number,
): CacheUpdate {
  return {
    key,
    kind,
    crdtType: entry.crdt.type,
    state: stateText(entry.crdt),
    region,
    vectorClock: entry.clock.toJSON(),
    hlcWallMs: entry.hlc.wallMs,
    hlcLogical: entry.hlc.logical,
    hlcNode: entry.hlc.node,
    producedAtMs: nowMs,
  };
}

type EntryJson = {
  crdt: unknown;
  clock: Record<string, number>;
  hlc: HlcTimestamp;
  region: string;
  updatedAtMs: number;
};

/** JSON.stringify of the entry's EntryJson, spliced from its parts' texts (same bytes, state encoded once). */
export function encodeEntry(entry: StoredEntry): string {
  const { clock, hlc, region, updatedAtMs } = entry;
  return `{"crdt":${stateText(entry.crdt)},"clock":${JSON.stringify(clock.toJSON())},"hlc":${JSON.stringify(hlc)},"region":${JSON.stringify(region)},"updatedAtMs":${JSON.stringify(updatedAtMs)}}`;
}

/** Decodes what this package wrote into Redis; SerializationError if someone else wrote garbage there. */
export function decodeEntry(text: string): StoredEntry {
  try {
    const j = JSON.parse(text) as EntryJson;
    return {
      crdt: parseCrdt(j.crdt),
      clock: VectorClock.from(j.clock),
      hlc: validateHlc(j.hlc),
      region: validateRegion(j.region, "entry region"),
      updatedAtMs: Number(j.updatedAtMs),
    };
  } catch (err) {
    throw new SerializationError(`corrupt eventual entry in Redis: ${(err as Error).message}`);
  }
}
