// One vocabulary for regions. A deployment's layout may name its own regions (tests run "a", "b");
// the five defaults are the regions the simulated WAN knows delays for. Every region name that comes
// from outside (env, CLI flags, HTTP, options) goes through parseRegion, so an unknown one fails the
// same way everywhere: InvalidInputError naming the regions that are known.
import { InvalidInputError } from "./errors.js";

export const REGIONS = ["us-east", "us-west", "eu-west", "ap-south", "ap-northeast"] as const;
export type Region = (typeof REGIONS)[number];

/** `name` when it is one of `known`; else InvalidInputError listing `known` (`field` names the input). */
export function parseRegion<R extends string>(name: unknown, known: readonly R[], field = "region"): R {
  if (typeof name === "string" && (known as readonly string[]).includes(name)) return name as R;
  // Never String(name): hostile input (e.g. { toString: false }) would throw a TypeError instead.
  const shown = typeof name === "string" ? JSON.stringify(name) : `(${name === null ? "null" : typeof name})`;
  throw new InvalidInputError(`unknown region ${shown} (known: ${known.join(", ")})`, {
    field,
    region: name,
    regions: [...known],
  });
}

/** True when `value` is one of the five default regions. */
export function isRegion(value: string): value is Region {
  return (REGIONS as readonly string[]).includes(value);
}

/**
 * Where each region's keys live on one Redis server: regions[i] → logical DB 1 + i (DB 0 is left for
 * ad-hoc use). Logical DBs isolate the regions' keyspaces like separate servers would, without five
 * extra processes; every component that connects per region starts from this one mapping.
 */
export function defaultRegionDbs(regions: readonly string[] = REGIONS): Record<string, number> {
  return Object.fromEntries(regions.map((region, i) => [region, 1 + i]));
}
