// Comparing what each region's Redis holds: the convergence check of both launchers and the fault tests.
import { BackendUnavailableError, canonicalJson } from "@meridian/core";
import { readEntries, readEntry } from "@meridian/eventual";
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
 * Every region read in parallel, each in a few batched script calls (256 keys each), so one poll costs
 * about one Redis round trip per region and adds little load to a cluster that is still draining. With
 * `unreachableDiverges`, a region whose Redis does not answer counts as diverged instead of failing the
 * comparison (fault tests).
 */
export async function compareRegionStates(
  redisOf: (region: string) => Redis,
  keyPrefix: string,
  keys: readonly string[],
  among: readonly string[],
  opts: { unreachableDiverges?: boolean } = {},
): Promise<StateComparison> {
  const perRegion = await Promise.all(
    among.map(async (r) => {
      const read = readEntries(redisOf(r), keyPrefix, keys).then((entries) =>
        entries.map((e) => (e ? canonicalJson(e.crdt.toJSON()) : null)),
      );
      return opts.unreachableDiverges ? read.catch(() => null) : read;
    }),
  );
  const diverged = keys.filter((_, i) => {
    const first = perRegion[0]?.[i];
    return perRegion.some((states) => !states || states[i] === null || states[i] !== first);
  });
  return { converged: diverged.length === 0, diverged };
}

/**
 * Polls `compare` until converged; resolves with the ms it took, else BackendUnavailableError. Between
 * polls it waits `pollMs`, or as long as the last poll took if longer (so polling never takes more than
 * half of a busy machine's time). A poll that fails because Redis is unavailable (a command timing out on
 * an overloaded machine) counts as not converged yet, until the deadline.
 */
export async function pollUntilConverged(
  compare: () => Promise<StateComparison>,
  timeoutMs: number,
  pollMs: number,
): Promise<number> {
  const startedAt = Date.now();
  for (;;) {
    const polledAt = Date.now();
    let diverged: string[];
    try {
      const res = await compare();
      if (res.converged) return Date.now() - startedAt;
      diverged = res.diverged;
    } catch (err) {
      if (!(err instanceof BackendUnavailableError) || Date.now() - startedAt > timeoutMs) throw err;
      diverged = [];
    }
    if (Date.now() - startedAt > timeoutMs) {
      throw new BackendUnavailableError(
        `not converged after ${timeoutMs} ms: ${diverged.length} keys differ (${diverged.slice(0, 5).join(", ")})`,
        { diverged: diverged.slice(0, 10) },
      );
    }
    await new Promise((r) => setTimeout(r, Math.max(pollMs, Date.now() - polledAt)));
  }
}
