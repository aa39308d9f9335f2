// What the invalidation consumer does with inbound records: decode and validate each CacheUpdate, merge
// it into the region's Redis with applyRemoteUpdate, and fold a run of one key's UPDATEs into one write.
// Every failure is thrown: the ConsumerGroup retries, then dead-letters the record that keeps failing.
import type { AvroSerde, CacheUpdate, ConsumedMessage } from "@meridian/bus";
import { SerializationError } from "@meridian/core";
import {
  applyRemoteUpdate,
  entryFromUpdate,
  resolveEntries,
  type StoredEntry,
  updateFromEntry,
} from "@meridian/eventual";
import type { Redis } from "@meridian/store";
import { asCacheUpdate } from "./cache-update-shape.js";

export interface Decoded {
  msg: ConsumedMessage;
  update: CacheUpdate;
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
  entryFromUpdate(update, Date.now()); // throws InvalidInputError for a malformed CRDT state / clock
  return { msg, update };
}

export function mergeHandlers(deps: MergeDeps) {
  const applyOne = async (d: Decoded): Promise<void> => {
    deps.applied(d, await applyRemoteUpdate(deps.redis, deps.keyPrefix, d.update));
  };

  /**
   * Several updates of one key in a row are folded into one (CRDT merge + clock join, the same
   * resolution applyRemoteUpdate does) and written once: far fewer Redis round trips when a hot key
   * changes in several regions, and the same final state as applying them one by one.
   */
  const applyRun = async (run: Decoded[]): Promise<void> => {
    if (run.length === 1) return applyOne(run[0]!);
    let folded: StoredEntry | null = null;
    const now = Date.now();
    for (const d of run) folded = resolveEntries(folded, entryFromUpdate(d.update, now).entry, now).entry;
    const last = run[run.length - 1]!.update;
    const update = {
      ...updateFromEntry(last.key, folded!, "UPDATE", folded!.region, Date.now()),
      producedAtMs: last.producedAtMs,
    };
    const outcome = await applyRemoteUpdate(deps.redis, deps.keyPrefix, update);
    for (const d of run) deps.applied(d, outcome);
  };

  /** One record. */
  const handleRecord = async (msg: ConsumedMessage): Promise<void> =>
    applyOne(await decodeRecord(deps.serde, msg));

  /** A run of one key's records; if any of them fails, the consumer falls back to handleRecord for each. */
  const handleRun = async (msgs: ConsumedMessage[]): Promise<void> => {
    const decoded: Decoded[] = [];
    for (const msg of msgs) decoded.push(await decodeRecord(deps.serde, msg));
    // Fold runs of plain UPDATEs; ROLLBACK / INVALIDATE keep their own semantics and order.
    let run: Decoded[] = [];
    for (const d of decoded) {
      if (d.update.kind === "UPDATE") {
        run.push(d);
        continue;
      }
      if (run.length) await applyRun(run);
      run = [];
      await applyOne(d);
    }
    if (run.length) await applyRun(run);
  };

  return { handleRecord, handleRun };
}
