// The near cache's directory in Redis: one Lua script per directory step on a key's value, directory
// hash and sharer set. CoherentNearCache calls these methods, and the replay test drives the same
// methods through the model checker's interleavings, so the checked calls are the calls that run.
import { LuaScript } from "@meridian/store";
import type { Redis } from "ioredis";
import { FORCE_RELEASE, GETM, GETS, RELEASE, WRITEBACK } from "./lua.js";

/** The Lua source of each directory step (read-only; tests derive mutants from it). */
export const DIRECTORY_SCRIPTS = { GETS, GETM, WRITEBACK, RELEASE, FORCE_RELEASE } as const;

/** Each step as a script: KEYS value, directory, sharers (FORCE_RELEASE also the owner's lease key). */
export const DIRECTORY_COMMANDS = {
  GETS: new LuaScript<string[]>("nearCacheGetS", GETS, 3),
  GETM: new LuaScript<string[]>("nearCacheGetM", GETM, 3),
  WRITEBACK: new LuaScript("nearCacheWriteBack", WRITEBACK, 3),
  RELEASE: new LuaScript("nearCacheRelease", RELEASE, 3),
  FORCE_RELEASE: new LuaScript("nearCacheForceRelease", FORCE_RELEASE, 4),
} as const;

export class LuaDirectory {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
  ) {
    for (const script of Object.values(DIRECTORY_COMMANDS)) script.defineOn(redis);
  }

  /** GetS: {"recall", owner} | {"S"|"E", value, version[, "owner"]} (see lua.ts). */
  getS(key: string, node: string): Promise<string[]> {
    return DIRECTORY_COMMANDS.GETS.run(this.redis, this.keysOf(key), [node]);
  }

  /** GetM: {"recall", owner} | {"M", value, version, sharers to invalidate...}. */
  getM(key: string, node: string): Promise<string[]> {
    return DIRECTORY_COMMANDS.GETM.run(this.redis, this.keysOf(key), [node]);
  }

  /** Write back the owner's value; the new version, or -1 when `node` no longer owns the line. */
  async writeBack(key: string, node: string, raw: string, release: "keep" | "S" | "I"): Promise<number> {
    return Number(await DIRECTORY_COMMANDS.WRITEBACK.run(this.redis, this.keysOf(key), [node, raw, release]));
  }

  /** Give up a clean line, keeping a shared copy ("S") or not ("I"). */
  async release(key: string, node: string, mode: "S" | "I"): Promise<void> {
    await DIRECTORY_COMMANDS.RELEASE.run(this.redis, this.keysOf(key), [node, mode]);
  }

  /** Clear `owner`'s ownership if its liveness lease key no longer exists. */
  async forceRelease(key: string, owner: string, leaseKey: string): Promise<void> {
    await DIRECTORY_COMMANDS.FORCE_RELEASE.run(this.redis, [...this.keysOf(key), leaseKey], [owner]);
  }

  keysOf(key: string): [value: string, directory: string, sharers: string] {
    return [`${this.prefix}:val:${key}`, `${this.prefix}:dir:${key}`, `${this.prefix}:sh:${key}`];
  }
}
