// Builders shared by this package's unit tests (no I/O).
import { type AnyCrdt, type HlcTimestamp, VectorClock } from "@meridian/core";
import type { StoredEntry } from "./types.js";

export function entry(
  crdt: AnyCrdt,
  clock: Record<string, number>,
  hlc: Partial<HlcTimestamp> = {},
): StoredEntry {
  const ts = { wallMs: hlc.wallMs ?? 1000, logical: hlc.logical ?? 0, node: hlc.node ?? "us-east" };
  return { crdt, clock: VectorClock.from(clock), hlc: ts, region: ts.node, updatedAtMs: 0 };
}
