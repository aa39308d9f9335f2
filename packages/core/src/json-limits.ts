// Limits on JSON that enters Meridian (HTTP bodies, CRDT states in Kafka records). Nesting is measured
// on the text before JSON.parse, so a value nested 100,000 deep is refused with a typed error instead of
// reaching code that recurses (canonical JSON, CRDT merges) and dies with a RangeError.
import { InvalidInputError } from "./errors.js";

export interface JsonLimits {
  /** Arrays and objects inside each other. */
  maxDepth: number;
  /** Characters in one string value. */
  maxStringLength: number;
  /** Elements in one array. */
  maxArrayLength: number;
  /** Properties in one object. */
  maxObjectKeys: number;
  /** Characters in one property name. */
  maxKeyLength: number;
}

export const DEFAULT_JSON_LIMITS: Readonly<JsonLimits> = Object.freeze({
  maxDepth: 64,
  maxStringLength: 256 * 1024,
  maxArrayLength: 10_000,
  maxObjectKeys: 10_000,
  maxKeyLength: 1_024,
});

function refuse(field: string, message: string, limit: keyof JsonLimits, max: number): never {
  throw new InvalidInputError(`${field}: ${message}`, { field, limit, max });
}

/** Throws InvalidInputError when `text` nests arrays/objects deeper than `maxDepth` (linear scan, no recursion). */
export function checkJsonDepth(text: string, maxDepth: number, field: string): void {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c)
        i++; // backslash: skip the escaped character
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x5b || c === 0x7b) {
      if (++depth > maxDepth) refuse(field, `nested deeper than ${maxDepth} levels`, "maxDepth", maxDepth);
    } else if (c === 0x5d || c === 0x7d) depth--;
  }
}

/** JSON.parse with the limits checked: depth before parsing, sizes after (iteratively). */
export function parseJsonBounded(
  text: string,
  field: string,
  limits: JsonLimits = DEFAULT_JSON_LIMITS,
): unknown {
  checkJsonDepth(text, limits.maxDepth, field);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new InvalidInputError(`${field} is not valid JSON`, { field });
  }
  checkJsonValue(value, field, limits);
  return value;
}

/**
 * Checks an already parsed (or built) value against the limits, depth included, without recursion; the
 * error names the path of the offending part, e.g. `value.items[3].name`.
 */
export function checkJsonValue(
  value: unknown,
  field: string,
  limits: JsonLimits = DEFAULT_JSON_LIMITS,
): void {
  const stack: { v: unknown; path: string; depth: number }[] = [{ v: value, path: field, depth: 0 }];
  while (stack.length > 0) {
    const { v, path, depth } = stack.pop()!;
    if (typeof v === "string") {
      if (v.length > limits.maxStringLength)
        refuse(
          path,
          `string longer than ${limits.maxStringLength} characters`,
          "maxStringLength",
          limits.maxStringLength,
        );
      continue;
    }
    if (v === null || typeof v !== "object") continue;
    if (depth + 1 > limits.maxDepth)
      refuse(path, `nested deeper than ${limits.maxDepth} levels`, "maxDepth", limits.maxDepth);
    if (Array.isArray(v)) {
      if (v.length > limits.maxArrayLength)
        refuse(
          path,
          `array longer than ${limits.maxArrayLength} elements`,
          "maxArrayLength",
          limits.maxArrayLength,
        );
      for (let i = 0; i < v.length; i++) stack.push({ v: v[i], path: `${path}[${i}]`, depth: depth + 1 });
      continue;
    }
    const keys = Object.keys(v);
    if (keys.length > limits.maxObjectKeys)
      refuse(
        path,
        `object with more than ${limits.maxObjectKeys} properties`,
        "maxObjectKeys",
        limits.maxObjectKeys,
      );
    for (const k of keys) {
      if (k.length > limits.maxKeyLength)
        refuse(
          `${path}.${k.slice(0, 32)}…`,
          `property name longer than ${limits.maxKeyLength} characters`,
          "maxKeyLength",
          limits.maxKeyLength,
        );
      stack.push({ v: (v as Record<string, unknown>)[k], path: `${path}.${k}`, depth: depth + 1 });
    }
  }
}
