// The directory (home node, kept at L2) half of the protocol as a data table:
// (state, event, guard) -> actions, next state. Busy states stall new requests, which keeps the
// protocol correct even when the network delays and reorders messages arbitrarily.
import type { DirState, ToDirType } from "./messages.js";

/** Conditions that pick between rows with the same (state, event). */
export type DirGuard =
  | "always"
  | "noOtherSharers" // GetM: no sharer besides the requester
  | "otherSharers" // GetM: at least one sharer besides the requester
  | "lastSharer" // PutS: the sender is the only sharer
  | "notLastSharer" // PutS: the sender is a sharer and others remain
  | "fromOwner"
  | "notFromOwner"
  | "notFromSharer"
  | "lastAck"
  | "moreAcks"
  | "ownerKept" // OwnerData: the old owner kept a shared copy
  | "ownerDropped"; // OwnerData: the old owner gave up its copy (it was evicting, or a RecallM)

/**
 * Directory actions, in order:
 * - `setRequester`           remember the sender as the requester of the transaction
 * - `send:DataS|DataE|DataM` send the home value to the requester
 * - `send:Inv->others`       invalidate every sharer except the requester; expect that many InvAcks
 * - `send:RecallS|RecallM`   ask the owner to give back the line (keeping a shared copy or not)
 * - `send:PutAck`            acknowledge the sender's Put
 * - `addRequester`           add the requester to the sharers
 * - `removeSender`           remove the sender from the sharers
 * - `clearSharers`, `ownerIsRequester`, `clearOwner`
 * - `writeHome`              take the value carried by PutM as the home value (the line is now dirty at L2)
 * - `absorbOwnerData`        take OwnerData's value if dirty; add the old owner to the sharers if it kept a copy
 * - `countAck`               one fewer InvAck to wait for
 * - `stall`                  leave the message in flight until the line is not busy
 */
export type DirAction =
  | "setRequester"
  | "send:DataS"
  | "send:DataE"
  | "send:DataM"
  | "send:Inv->others"
  | "send:RecallS"
  | "send:RecallM"
  | "send:PutAck"
  | "addRequester"
  | "removeSender"
  | "clearSharers"
  | "ownerIsRequester"
  | "clearOwner"
  | "writeHome"
  | "absorbOwnerData"
  | "countAck"
  | "stall";

export interface DirRow {
  state: DirState;
  event: ToDirType;
  guard: DirGuard;
  actions: readonly DirAction[];
  next: DirState;
}

const row = (
  state: DirState,
  event: ToDirType,
  guard: DirGuard,
  actions: DirAction[],
  next: DirState,
): DirRow => ({
  state,
  event,
  guard,
  actions,
  next,
});

const BUSY: DirState[] = ["S_U", "EM_U", "B_RS", "B_RM", "B_A"];
const REQUESTS: ToDirType[] = ["GetS", "GetM", "PutS", "PutE", "PutM"];

// biome-ignore format: aligned by hand so the table reads as a table
export const DIRECTORY_TABLE: readonly DirRow[] = [
  // state   event        guard             actions                                                                   next
  row("I",    "GetS",      "always",         ["setRequester", "ownerIsRequester", "send:DataE"],                       "EM_U"),
  row("I",    "GetM",      "always",         ["setRequester", "ownerIsRequester", "send:DataM"],                       "EM_U"),
  row("I",    "PutS",      "always",         ["send:PutAck"],                                                          "I"),
  row("I",    "PutE",      "always",         ["send:PutAck"],                                                          "I"),
  row("I",    "PutM",      "always",         ["send:PutAck"],                                                          "I"),
  row("S",    "GetS",      "always",         ["setRequester", "addRequester", "send:DataS"],                           "S_U"),
  row("S",    "GetM",      "noOtherSharers", ["setRequester", "clearSharers", "ownerIsRequester", "send:DataM"],       "EM_U"),
  row("S",    "GetM",      "otherSharers",   ["setRequester", "send:Inv->others", "clearSharers", "ownerIsRequester"], "B_A"),
  row("S",    "PutS",      "lastSharer",     ["removeSender", "send:PutAck"],                                          "I"),
  row("S",    "PutS",      "notLastSharer",  ["removeSender", "send:PutAck"],                                          "S"),
  row("S",    "PutS",      "notFromSharer",  ["send:PutAck"],                                                          "S"),
  row("S",    "PutE",      "always",         ["send:PutAck"],                                                          "S"),
  row("S",    "PutM",      "always",         ["send:PutAck"],                                                          "S"),
  row("EM",   "GetS",      "notFromOwner",   ["setRequester", "send:RecallS"],                                         "B_RS"),
  row("EM",   "GetM",      "notFromOwner",   ["setRequester", "send:RecallM"],                                         "B_RM"),
  row("EM",   "PutM",      "fromOwner",      ["writeHome", "clearOwner", "send:PutAck"],                               "I"),
  row("EM",   "PutE",      "fromOwner",      ["clearOwner", "send:PutAck"],                                            "I"),
  row("EM",   "PutM",      "notFromOwner",   ["send:PutAck"],                                                          "EM"),
  row("EM",   "PutE",      "notFromOwner",   ["send:PutAck"],                                                          "EM"),
  row("EM",   "PutS",      "always",         ["send:PutAck"],                                                          "EM"),
  row("B_RS", "OwnerData", "ownerKept",      ["absorbOwnerData", "clearOwner", "addRequester", "send:DataS"],          "S_U"),
  // The old owner kept nothing (its eviction raced the recall): the reader is the only holder, so E.
  row("B_RS", "OwnerData", "ownerDropped",   ["absorbOwnerData", "clearOwner", "ownerIsRequester", "send:DataE"],      "EM_U"),
  row("B_RM", "OwnerData", "always",         ["absorbOwnerData", "clearOwner", "ownerIsRequester", "send:DataM"],      "EM_U"),
  row("B_A",  "InvAck",    "moreAcks",       ["countAck"],                                                             "B_A"),
  row("B_A",  "InvAck",    "lastAck",        ["countAck", "send:DataM"],                                               "EM_U"),
  row("S_U",  "Unblock",   "always",         [],                                                                       "S"),
  row("EM_U", "Unblock",   "always",         [],                                                                       "EM"),
  // While a line is busy, new requests and Puts wait in the network (the directory serializes per line).
  ...BUSY.flatMap((s) => REQUESTS.map((e) => row(s, e, "always", ["stall"], s))),
];

export type DirectoryTable = readonly DirRow[];
