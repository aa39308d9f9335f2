// Write rounds that keep running in the background while a pipeline test kills, partitions or restarts
// something, and the check that every region ends up holding exactly what those rounds acknowledged.
import { expect } from "vitest";
import {
  type ClusterUrls,
  get,
  sleep,
  type WriteExpectations,
  writeRoundInEveryRegion,
} from "../../support/pipeline.js";

export interface RoundKeys {
  counters: readonly string[];
  sets: readonly string[];
  lww?: readonly string[];
}

export interface WriteLoop {
  /** Rounds started so far. */
  readonly rounds: number;
  /** When the last complete round was acknowledged (0 before the first). */
  readonly lastAckMs: number;
  /** Asks the loop to end after its current round; resolves once it has. */
  stop(): Promise<void>;
  /** Resolves when the loop ended, by `stop()` or by `until`. */
  readonly done: Promise<void>;
}

/**
 * Writes one round in every region, pauses `pauseMs`, and repeats until `stop()` is called or `until()`
 * answers true. A failed write rejects `done` (and `stop()`), so a lost write fails the test.
 */
export function keepWriting(
  cluster: ClusterUrls,
  keys: RoundKeys,
  expected: WriteExpectations,
  options: { pauseMs: number; until?: () => boolean },
): WriteLoop {
  let rounds = 0;
  let lastAckMs = 0;
  let writing = true;
  const done = (async () => {
    while (writing && !options.until?.()) {
      await writeRoundInEveryRegion(cluster, rounds++, keys, expected);
      lastAckMs = Date.now();
      await sleep(options.pauseMs);
    }
  })();
  return {
    get rounds() {
      return rounds;
    },
    get lastAckMs() {
      return lastAckMs;
    },
    stop() {
      writing = false;
      return done;
    },
    done,
  };
}

/** Empty expectations for the given counters (each starts at 0) and sets. */
export function noWritesYet(counters: readonly string[]): WriteExpectations {
  return { counters: new Map(counters.map((k) => [k, 0])), setElements: new Set() };
}

/**
 * Reads every counter and set through every region's HTTP API: each counter must equal the sum of the
 * acknowledged increments, each set must hold exactly the acknowledged elements.
 */
export async function expectEveryRegionHolds(
  cluster: ClusterUrls,
  keys: RoundKeys,
  expected: WriteExpectations,
): Promise<void> {
  for (const region of cluster.layout.regions) {
    const url = cluster.regions[region]!.url;
    for (const k of keys.counters)
      expect((await get(url, "important", k)).body.value, `${k}@${region}`).toBe(expected.counters.get(k));
    for (const k of keys.sets) {
      const set = (await get(url, "important", k)).body.value as string[];
      expect([...set].sort(), `${k}@${region}`).toEqual([...expected.setElements].sort());
    }
  }
}
