// Input checks: every rejection is an InvalidInputError with the reason in `details`.
import { InvalidInputError } from "@meridian/core";

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
}

/** JSON text of `value`; refuses what JSON would drop or mangle (undefined, functions, NaN, cycles, BigInt). */
export function serialize(value: unknown, limits: Limits): string {
  let json: string | undefined;
  try {
    json = JSON.stringify(value, (_k, v: unknown) => {
      if (typeof v === "number" && !Number.isFinite(v)) throw new Error(`non-finite number ${v}`);
      if (typeof v === "function" || typeof v === "symbol")
        throw new Error(`${typeof v} is not serializable`);
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
