// The cache-controller half of the protocol as a data table: (state, event) -> actions, next state.
// The runtime manager and the model checker both interpret this table; nothing else encodes the protocol.
import type { CacheState, CoherenceMessage, MessageType, ProcessorEvent } from "./messages.js";

export type CacheEvent = ProcessorEvent | MessageType;

/**
 * Actions a cache row may perform, in order:
 * - `send:<Type>`   send a message to the directory (PutM / OwnerData carry the line's value)
 * - `readHit`       serve the pending/current load from the local copy
 * - `write`         perform the pending store on the local copy (the line becomes dirty)
 * - `fill`          take the value carried by the incoming data message
 * - `dropData`      forget the local value (the line no longer holds data)
 * - `stall`         cannot handle the event now; it waits (processor op retried / message left in flight)
 */
export type CacheAction =
  | "send:GetS"
  | "send:GetM"
  | "send:PutS"
  | "send:PutE"
  | "send:PutM"
  | "send:InvAck"
  | "send:OwnerData(dirty,kept)"
  | "send:OwnerData(clean,kept)"
  | "send:OwnerData(dirty,dropped)"
  | "send:OwnerData(clean,dropped)"
  | "send:Unblock"
  | "readHit"
  | "write"
  | "fill"
  | "dropData"
  | "stall";

export interface CacheRow {
  state: CacheState;
  event: CacheEvent;
  actions: readonly CacheAction[];
  next: CacheState;
}

const row = (state: CacheState, event: CacheEvent, actions: CacheAction[], next: CacheState): CacheRow => ({
  state,
  event,
  actions,
  next,
});

/** Processor operations that must wait while a line is in a transient state. */
function stalls(state: CacheState, events: CacheEvent[]): CacheRow[] {
  return events.map((e) => row(state, e, ["stall"], state));
}

// biome-ignore format: aligned by hand so the table reads as a table
export const CACHE_TABLE: readonly CacheRow[] = [
  // state   event      actions                                        next
  row("I",    "Load",    ["send:GetS"],                                 "IS_D"),
  row("I",    "Store",   ["send:GetM"],                                 "IM_D"),
  row("I",    "Inv",     ["send:InvAck"],                               "I"),
  row("S",    "Load",    ["readHit"],                                   "S"),
  row("S",    "Store",   ["send:GetM"],                                 "SM_D"),
  row("S",    "Evict",   ["send:PutS", "dropData"],                     "SI_A"),
  row("S",    "Inv",     ["send:InvAck", "dropData"],                   "I"),
  row("E",    "Load",    ["readHit"],                                   "E"),
  row("E",    "Store",   ["write"],                                     "M"),
  row("E",    "Evict",   ["send:PutE"],                                 "EI_A"),
  row("E",    "RecallS", ["send:OwnerData(clean,kept)"],                "S"),
  row("E",    "RecallM", ["send:OwnerData(clean,dropped)", "dropData"], "I"),
  row("M",    "Load",    ["readHit"],                                   "M"),
  row("M",    "Store",   ["write"],                                     "M"),
  row("M",    "Evict",   ["send:PutM"],                                 "MI_A"),
  row("M",    "RecallS", ["send:OwnerData(dirty,kept)"],                "S"),
  row("M",    "RecallM", ["send:OwnerData(dirty,dropped)", "dropData"], "I"),
  row("IS_D", "DataS",   ["fill", "readHit", "send:Unblock"],           "S"),
  row("IS_D", "DataE",   ["fill", "readHit", "send:Unblock"],           "E"),
  row("IM_D", "DataM",   ["fill", "write", "send:Unblock"],             "M"),
  row("SM_D", "Load",    ["readHit"],                                   "SM_D"),
  row("SM_D", "Inv",     ["send:InvAck", "dropData"],                   "IM_D"),
  row("SM_D", "DataM",   ["fill", "write", "send:Unblock"],             "M"),
  row("MI_A", "RecallS", ["send:OwnerData(dirty,dropped)", "dropData"], "II_A"),
  row("MI_A", "RecallM", ["send:OwnerData(dirty,dropped)", "dropData"], "II_A"),
  row("MI_A", "PutAck",  ["dropData"],                                  "I"),
  row("EI_A", "RecallS", ["send:OwnerData(clean,dropped)", "dropData"], "II_A"),
  row("EI_A", "RecallM", ["send:OwnerData(clean,dropped)", "dropData"], "II_A"),
  row("EI_A", "PutAck",  ["dropData"],                                  "I"),
  row("SI_A", "Inv",     ["send:InvAck"],                               "II_A"),
  row("SI_A", "PutAck",  [],                                            "I"),
  row("II_A", "PutAck",  [],                                            "I"),
  // Processor operations wait while a transaction for the line is in flight.
  ...stalls("IS_D", ["Load", "Store", "Evict"]),
  ...stalls("IM_D", ["Load", "Store", "Evict"]),
  ...stalls("SM_D", ["Store", "Evict"]),
  ...stalls("MI_A", ["Load", "Store", "Evict"]),
  ...stalls("EI_A", ["Load", "Store", "Evict"]),
  ...stalls("SI_A", ["Load", "Store", "Evict"]),
  ...stalls("II_A", ["Load", "Store", "Evict"]),
];

export type CacheTable = readonly CacheRow[];

/** Index a table for O(1) lookup; a duplicate (state, event) pair is a table bug and throws. */
export function indexCacheTable(table: CacheTable): Map<string, CacheRow> {
  const index = new Map<string, CacheRow>();
  for (const r of table) {
    const k = `${r.state}|${r.event}`;
    if (index.has(k)) throw new Error(`cache table has two rows for ${k}`);
    index.set(k, r);
  }
  return index;
}

export type { CoherenceMessage };
