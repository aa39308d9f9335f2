import type { Redis } from "ioredis";
import type {
  CrdtOp,
  EventualCacheOptions,
  EventualRead,
  ReadOptions,
  StoredEntry,
  UpdatePublisher,
} from "./types.js";

export class EventualConsistencyCache {
  constructor(
    readonly redis: Redis,
    readonly publisher: UpdatePublisher,
    readonly options: EventualCacheOptions,
  ) {}

  async getWithEventualConsistency(_key: string, _opts?: ReadOptions | number): Promise<EventualRead | null> {
    throw new Error("not implemented yet");
  }

  async setWithEventualConsistency(
    _key: string,
    _value: unknown | CrdtOp,
    _version?: Record<string, number>,
  ): Promise<Record<string, number>> {
    throw new Error("not implemented yet");
  }

  async propagateUpdate(_key: string): Promise<boolean> {
    throw new Error("not implemented yet");
  }

  resolveConflict(_key: string, _local: StoredEntry | null, _remote: StoredEntry): StoredEntry {
    throw new Error("not implemented yet");
  }

  async rollback(_key: string, _version: Record<string, number>): Promise<Record<string, number>> {
    throw new Error("not implemented yet");
  }
}
