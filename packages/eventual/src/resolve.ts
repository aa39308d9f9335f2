// Conflict resolution between two copies of one key. Pure. Vector clocks decide dominance; only
// concurrent copies go to the CRDT merge, so a causally newer state (a rollback, an LWW rewrite)
// replaces what it has seen instead of being merged with it.
import { compareHlc, InvalidInputError, mergeCrdts as mergeCrdt } from "@meridian/core";
import type { ApplyOutcome, StoredEntry } from "./types.js";

export interface Resolution {
  outcome: ApplyOutcome;
  /** The state the local copy should hold afterwards. */
  entry: StoredEntry;
  /** True when `entry` differs from `local` (a write is needed). */
  changed: boolean;
}

export function resolveEntries(local: StoredEntry | null, remote: StoredEntry, nowMs: number): Resolution {
  if (local === null) return { outcome: "applied", entry: { ...remote, updatedAtMs: nowMs }, changed: true };
  if (local.crdt.type !== remote.crdt.type) {
    throw new InvalidInputError("update CRDT type differs from the stored one", {
      stored: local.crdt.type,
      update: remote.crdt.type,
    });
  }
  const newest = compareHlc(remote.hlc, local.hlc) > 0 ? remote : local;
  switch (remote.clock.compare(local.clock)) {
    case "before":
      return { outcome: "dominated", entry: local, changed: false };
    case "after":
      return {
        outcome: "applied",
        entry: { ...remote, hlc: newest.hlc, region: newest.region, updatedAtMs: nowMs },
        changed: true,
      };
    case "equal": {
      if (local.crdt.equals(remote.crdt)) return { outcome: "duplicate", entry: local, changed: false };
      // Same history, different states: only after lost clocks (an entry deleted and rewritten). Merging
      // keeps every replica converging rather than letting arrival order pick a winner.
      const crdt = mergeCrdt(local.crdt, remote.crdt);
      const changed = !crdt.equals(local.crdt);
      return {
        outcome: changed ? "merged" : "duplicate",
        entry: changed
          ? { ...local, crdt, hlc: newest.hlc, region: newest.region, updatedAtMs: nowMs }
          : local,
        changed,
      };
    }
    default: {
      const crdt = mergeCrdt(local.crdt, remote.crdt);
      return {
        outcome: "merged",
        entry: {
          crdt,
          clock: local.clock.merge(remote.clock),
          hlc: newest.hlc,
          region: newest.region,
          updatedAtMs: nowMs,
        },
        changed: true,
      };
    }
  }
}
