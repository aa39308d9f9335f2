// What the invalidation consumer does with inbound records: decode and validate each CacheUpdate, fold a
// run of one key's UPDATEs into one, and merge a whole window into the region's Redis in one pipelined
// round trip (one Lua merge per key). A record that fails is reported in its slot: the ConsumerGroup
// retries it alone, then dead-letters it if it keeps failing; the rest of the window stays applied.
import type { AvroSerde, CacheUpdate, ConsumedMessage } from "@meridian/bus";
import { BackendUnavailableError, SerializationError } from "@meridian/core";
import {
  type ApplyOutcome,
  applyRemoteEntries,
  applyRemoteUpdate,
  entryFromUpdate,
  type RemoteEntry,
  resolveEntries,
  type StoredEntry,
} from "@meridian/eventual";
import type { Redis } from "@meridian/store";
import { asCacheUpdate } from "./cache-update-shape.js";

export interface Decoded {
  msg: ConsumedMessage;
  update: CacheUpdate;
  /** The update validated and parsed once, on receipt (what the merge takes). */
  remote: RemoteEntry;
}

export interface MergeDeps {
  redis: Redis;
  keyPrefix: string;
  serde: AvroSerde;
  /** Called once per record merged, with applyRemoteUpdate's outcome. */
  applied(d: Decoded, outcome: string): void;
}

/** Decodes and validates one record; SerializationError / InvalidInputError for a malformed one. */
export async function decodeRecord(serde: AvroSerde, msg: ConsumedMessage): Promise<Decoded> {
  if (!msg.value || msg.value.length === 0) throw new SerializationError("empty message value");
  const update = asCacheUpdate(await serde.decode(msg.value));
  // Throws InvalidInputError for a malformed CRDT state / clock.
  return { msg, update, remote: entryFromUpdate(update, Date.now()) };
}

/** A run of one key's consecutive UPDATEs (or one other record) merged with one script call. */
interface Group {
  members: { index: number; d: Decoded }[];
}

/** Same-key UPDATEs in a row share a group; ROLLBACK / INVALIDATE keep their own semantics and order. */
function groupsOf(decoded: { index: number; d: Decoded }[]): Group[] {
  const lastOfKey = new Map<string, Group>();
  const groups: Group[] = [];
  for (const item of decoded) {
    const last = lastOfKey.get(item.d.update.key);
    const prev = last?.members.at(-1)?.d.update.kind;
    if (last && prev === "UPDATE" && item.d.update.kind === "UPDATE") {
      last.members.push(item);
      continue;
    }
    const group = { members: [item] };
    lastOfKey.set(item.d.update.key, group);
    groups.push(group);
  }
  return groups;
}

/**
 * Several updates of one key folded into one (CRDT merge + clock join, the resolution the merge does):
 * the same final state as applying them one by one, in one script call.
 */
function foldRun(run: Decoded[]): RemoteEntry {
  if (run.length === 1) return run[0]!.remote;
  let folded: StoredEntry | null = null;
  const now = Date.now();
  for (const d of run) folded = resolveEntries(folded, d.remote.entry, now).entry;
  return { key: run[0]!.remote.key, kind: "UPDATE", entry: folded! };
}

/** Tries of a whole window's merge when Redis fails, and the pause before the second one (doubled after). */
const WINDOW_TRIES = 3;
const WINDOW_RETRY_MS = 200;

/**
 * The window's merges, tried again as a whole when Redis fails (a command timing out on an overloaded
 * server): merges are idempotent, so replaying the window is harmless, while handing it to the consumer's
 * record-by-record path would turn one slow batch into hundreds of separate calls on the same server.
 */
async function mergeWindow(deps: MergeDeps, remotes: RemoteEntry[]): Promise<Array<ApplyOutcome | Error>> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await applyRemoteEntries(deps.redis, deps.keyPrefix, remotes);
    } catch (err) {
      if (!(err instanceof BackendUnavailableError) || attempt >= WINDOW_TRIES) throw err;
      await new Promise((r) => setTimeout(r, WINDOW_RETRY_MS * 2 ** (attempt - 1)));
    }
  }
}

export function mergeHandlers(deps: MergeDeps) {
  /** One record. */
  const handleRecord = async (msg: ConsumedMessage): Promise<void> => {
    const d = await decodeRecord(deps.serde, msg);
    deps.applied(d, await applyRemoteUpdate(deps.redis, deps.keyPrefix, d.update));
  };

  /**
   * A window of records: decoded, same-key runs folded, and merged with one pipelined round trip (one
   * Lua script call per group). A record that cannot be decoded or merged gets its error in its slot;
   * Redis failing throws (the consumer then retries record by record).
   */
  const handleBatch = async (msgs: ConsumedMessage[]): Promise<Array<Error | undefined>> => {
    const results: Array<Error | undefined> = msgs.map(() => undefined);
    const decoded: { index: number; d: Decoded }[] = [];
    for (const [index, msg] of msgs.entries()) {
      try {
        decoded.push({ index, d: await decodeRecord(deps.serde, msg) });
      } catch (err) {
        if (err instanceof BackendUnavailableError) throw err; // the registry, not the record
        results[index] = err as Error;
      }
    }
    const groups = groupsOf(decoded);
    const remotes: RemoteEntry[] = [];
    const sent: Group[] = [];
    for (const g of groups) {
      try {
        remotes.push(foldRun(g.members.map((m) => m.d)));
        sent.push(g);
      } catch (err) {
        for (const m of g.members) results[m.index] = err as Error;
      }
    }
    const outcomes = await mergeWindow(deps, remotes);
    sent.forEach((g, i) => {
      const outcome = outcomes[i]!;
      for (const m of g.members) {
        if (outcome instanceof Error) results[m.index] = outcome;
        else deps.applied(m.d, outcome);
      }
    });
    return results;
  };

  return { handleRecord, handleBatch };
}
