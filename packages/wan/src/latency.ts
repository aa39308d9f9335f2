// Simulated WAN latency between the five data centers: one-way delays in milliseconds.
// Defaults are half of typical public-cloud round trips between the regions' real locations
// (N. Virginia, Oregon, Ireland, Mumbai, Tokyo): 64–220 ms RTT, i.e. 32–110 ms one way.
import { InvalidInputError, parseRegion } from "@meridian/core";

export type LatencyMatrix = Record<string, Record<string, number>>;

const ONE_WAY_MS: ReadonlyArray<[string, string, number]> = [
  ["us-east", "us-west", 32],
  ["us-east", "eu-west", 38],
  ["us-east", "ap-south", 95],
  ["us-east", "ap-northeast", 75],
  ["us-west", "eu-west", 68],
  ["us-west", "ap-south", 110],
  ["us-west", "ap-northeast", 52],
  ["eu-west", "ap-south", 60],
  ["eu-west", "ap-northeast", 105],
  ["ap-south", "ap-northeast", 62],
];

/** Fallback for region pairs the table does not know (custom region names). */
export const DEFAULT_UNKNOWN_PAIR_MS = 80;

/** A symmetric matrix over `regions`; known pairs get realistic delays, unknown ones DEFAULT_UNKNOWN_PAIR_MS. */
export function defaultLatencyMatrix(regions: readonly string[]): LatencyMatrix {
  const matrix: LatencyMatrix = {};
  for (const from of regions) {
    matrix[from] = {};
    for (const to of regions) {
      if (from === to) continue;
      const known = ONE_WAY_MS.find(([a, b]) => (a === from && b === to) || (a === to && b === from));
      matrix[from]![to] = known ? known[2] : DEFAULT_UNKNOWN_PAIR_MS;
    }
  }
  return matrix;
}

/** Every region pair has a finite, non-negative delay; throws InvalidInputError otherwise. */
export function validateLatencyMatrix(matrix: unknown, regions: readonly string[]): LatencyMatrix {
  if (typeof matrix !== "object" || matrix === null)
    throw new InvalidInputError("latency matrix must be an object");
  const m = matrix as Record<string, unknown>;
  const out: LatencyMatrix = {};
  for (const from of regions) {
    const row = m[from];
    if (typeof row !== "object" || row === null)
      throw new InvalidInputError(`latency matrix lacks row ${from}`);
    out[from] = {};
    for (const to of regions) {
      if (from === to) continue;
      const ms = (row as Record<string, unknown>)[to];
      if (typeof ms !== "number" || !Number.isFinite(ms) || ms < 0) {
        throw new InvalidInputError(`latency ${from}→${to} must be a non-negative number of ms`, {
          from,
          to,
        });
      }
      out[from]![to] = ms;
    }
  }
  return out;
}

/**
 * Applies overrides on top of `base`. Accepts a full/partial matrix object, or a uniform number
 * (every pair gets that delay; 0 turns the WAN simulation off). A region the override names must be one
 * of `regions` (InvalidInputError otherwise), so a typo is refused rather than silently ignored.
 */
export function mergeLatency(
  base: LatencyMatrix,
  regions: readonly string[],
  override?: number | Partial<LatencyMatrix>,
): LatencyMatrix {
  if (override === undefined) return base;
  if (typeof override === "number") {
    const uniform: LatencyMatrix = {};
    for (const from of regions) {
      uniform[from] = {};
      for (const to of regions) if (from !== to) uniform[from]![to] = override;
    }
    return validateLatencyMatrix(uniform, regions);
  }
  if (typeof override !== "object" || override === null)
    throw new InvalidInputError("latency must be a number (uniform ms) or a latency matrix object");
  for (const [from, row] of Object.entries(override)) {
    parseRegion(from, regions, "latency matrix");
    for (const to of Object.keys(row ?? {})) parseRegion(to, regions, "latency matrix");
  }
  const merged: LatencyMatrix = {};
  for (const from of regions) merged[from] = { ...base[from], ...(override[from] ?? {}) };
  return validateLatencyMatrix(merged, regions);
}

/** Parses `MERIDIAN_WAN_LATENCY_MS`: a number (uniform) or JSON of a (partial) matrix. */
export function parseLatencyEnv(text: string | undefined): number | Partial<LatencyMatrix> | undefined {
  if (text === undefined || text.trim() === "") return undefined;
  const asNumber = Number(text);
  if (Number.isFinite(asNumber)) return asNumber;
  try {
    return JSON.parse(text) as Partial<LatencyMatrix>;
  } catch {
    throw new InvalidInputError("MERIDIAN_WAN_LATENCY_MS must be a number or a JSON latency matrix");
  }
}
