// Comparing what each region's Redis holds: the convergence check of both launchers and the fault tests.
import { BackendUnavailableError, canonicalJson } from "@meridian/core";
import { readEntry } from "@meridian/eventual";
import type { Redis } from "@meridian/store";

/** Canonical JSON of a region's copy of `key`, or null when absent. */
export async function stateFingerprint(redis: Redis, keyPrefix: string, key: string): Promise<string | null> {
  const entry = await readEntry(redis, keyPrefix, key);
  return entry ? canonicalJson(entry.crdt.toJSON()) : null;
}

export interface StateComparison {
  converged: boolean;
  diverged: string[];
}

/**
 * For each key, whether every listed region's Redis holds the same CRDT state (absent counts as diverged).
 * All keys × regions in parallel: one poll costs about one Redis round trip, so the time at which
 * convergence is observed stays close to the time it happened. With `unreachableDiverges`, a region whose
 * Redis does not answer counts as diverged instead of failing the comparison (fault tests).
 */
export async function compareRegionStates(
  redisOf: (region: string) => Redis,
  keyPrefix: string,
  keys: readonly string[],
  among: readonly string[],
  opts: { unreachableDiverges?: boolean } = {},
): Promise<StateComparison> {
  const UNREACHABLE = Symbol("unreachable");
  const results = await Promise.all(
    keys.map(async (key) => {
      const states = await Promise.all(
        among.map((r) => {
          const state = stateFingerprint(redisOf(r), keyPrefix, key);
          return opts.unreachableDiverges ? state.catch(() => UNREACHABLE) : state;
        }),
      );
      return states.some((s) => s === null || s === UNREACHABLE || s !== states[0]) ? key : null;
    }),
  );
  const diverged = results.filter((k): k is string => k !== null);
  return { converged: diverged.length === 0, diverged };
}

/** Polls `compare` every `pollMs` until converged; resolves with the ms it took, else BackendUnavailableError. */
export async function pollUntilConverged(
  compare: () => Promise<StateComparison>,
  timeoutMs: number,
  pollMs: number,
): Promise<number> {
  const startedAt = Date.now();
  for (;;) {
    const { converged, diverged } = await compare();
    if (converged) return Date.now() - startedAt;
    if (Date.now() - startedAt > timeoutMs) {
      throw new BackendUnavailableError(
        `not converged after ${timeoutMs} ms: ${diverged.length} keys differ (${diverged.slice(0, 5).join(", ")})`,
        { diverged: diverged.slice(0, 10) },
      );
    }
    await new Promise((r) => setTimeout(r, pollMs));
  }
}
