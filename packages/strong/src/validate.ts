// Input checks: every rejection is an InvalidInputError with the reason in `details`.
import { InvalidInputError } from "@meridian/core";
import { LockHandle } from "@meridian/locks";

export interface Limits {
  maxKeyLength: number;
  maxValueBytes: number;
}

export function checkKey(key: unknown, limits: Limits): asserts key is string {
  if (typeof key !== "string" || key.length === 0) {
    throw new InvalidInputError("key must be a non-empty string", { key });
  }
  if (key.length > limits.maxKeyLength) {
    throw new InvalidInputError(`key longer than ${limits.maxKeyLength} characters`, { length: key.length });
  }
  if (!storable(key)) throw new InvalidInputError(`key ${unstorable}`, { key: JSON.stringify(key) });
}

const unstorable = "holds a NUL character or a lone UTF-16 surrogate, which PostgreSQL text/jsonb refuse";

/**
 * PostgreSQL refuses NUL in text and \u0000 or lone surrogates in jsonb. Caught here, before the write
 * queues, so one caller's bad value can never fail the other writes of its commit group.
 */
function storable(s: string): boolean {
  return !s.includes("\u0000") && !LONE_SURROGATE.test(s);
}

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** JSON text of `value`; refuses what JSON would drop or mangle (undefined, functions, NaN, cycles, BigInt). */
export function serialize(value: unknown, limits: Limits): string {
  let json: string | undefined;
  try {
    json = JSON.stringify(value, (_k, v: unknown) => {
      if (typeof v === "number" && !Number.isFinite(v)) throw new Error(`non-finite number ${v}`);
      if (typeof v === "function" || typeof v === "symbol")
        throw new Error(`${typeof v} is not serializable`);
      if (!storable(_k) || (typeof v === "string" && !storable(v))) throw new Error(`a string ${unstorable}`);
      return v;
    });
  } catch (err) {
    throw new InvalidInputError(`value cannot be serialized: ${(err as Error).message}`);
  }
  if (json === undefined) throw new InvalidInputError("value cannot be serialized (undefined)");
  const bytes = Buffer.byteLength(json);
  if (bytes > limits.maxValueBytes) {
    throw new InvalidInputError(`value of ${bytes} bytes exceeds the cap of ${limits.maxValueBytes}`, {
      bytes,
      maxValueBytes: limits.maxValueBytes,
    });
  }
  return json;
}

// The lock methods take a LockHandle / an options object only; an untyped caller passing a lock's name and
// token, or a bare ttl, must fail loudly instead of acting on the wrong lock or with a default ttl.
export function checkLockHandle(method: string, handle: unknown): asserts handle is LockHandle {
  if (!(handle instanceof LockHandle)) {
    throw new InvalidInputError(`${method} takes a LockHandle (from acquireLock)`, { got: kindOf(handle) });
  }
}

export function checkLockOptions(method: string, options: unknown): void {
  if (typeof options !== "object" || options === null || Array.isArray(options)) {
    throw new InvalidInputError(`${method} takes an options object such as { ttlMs }`, {
      got: kindOf(options),
    });
  }
}

// Reads take (key, options): an untyped caller passing a lock name second, or options third, must fail
// loudly instead of reading without the lock or without its bounds.
export function checkReadOptions(method: string, options: unknown, extraArgs: number): void {
  if (extraArgs > 0) throw new InvalidInputError(`${method} takes (key, options)`, { extraArgs });
  if (typeof options !== "object" || options === null || Array.isArray(options)) {
    throw new InvalidInputError(`${method} takes an options object such as { maxAgeMs, lock }`, {
      got: kindOf(options),
    });
  }
  const lock = (options as { lock?: unknown }).lock;
  if (lock !== undefined && (typeof lock !== "string" || lock.length === 0)) {
    throw new InvalidInputError(`${method}: lock must be a non-empty lock name`, { got: kindOf(lock) });
  }
}

export function checkTtlMs(method: string, ttlMs: unknown): void {
  if (ttlMs !== undefined && !(Number.isInteger(ttlMs) && (ttlMs as number) > 0)) {
    throw new InvalidInputError(`${method}: ttlMs must be an integer > 0`, { ttlMs });
  }
}

function kindOf(v: unknown): string {
  return v === null ? "null" : Array.isArray(v) ? "array" : typeof v;
}
