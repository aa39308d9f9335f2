// The near cache's directory in Redis: one Lua script per directory step on a key's value, directory
// hash and sharer set. CoherentNearCache calls these methods, and the replay test drives the same
// methods through the model checker's interleavings, so the checked calls are the calls that run.
import type { Redis } from "ioredis";
import { FORCE_RELEASE, GETM, GETS, RELEASE, WRITEBACK } from "./lua.js";

type Command = (...args: string[]) => Promise<unknown>;

/** The Lua source of each directory step (read-only; tests derive mutants from it). */
export const DIRECTORY_SCRIPTS = { GETS, GETM, WRITEBACK, RELEASE, FORCE_RELEASE } as const;

export class LuaDirectory {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
  ) {
    for (const [name, lua] of Object.entries({ GETS, GETM, WRITEBACK, RELEASE })) {
      redis.defineCommand(`mer_${name}`, { numberOfKeys: 3, lua });
    }
    redis.defineCommand("mer_FORCE_RELEASE", { numberOfKeys: 4, lua: FORCE_RELEASE });
  }

  /** GetS: {"recall", owner} | {"S"|"E", value, version[, "owner"]} (see lua.ts). */
  getS(key: string, node: string): Promise<string[]> {
    return this.call("mer_GETS", key, node) as Promise<string[]>;
  }

  /** GetM: {"recall", owner} | {"M", value, version, sharers to invalidate...}. */
  getM(key: string, node: string): Promise<string[]> {
    return this.call("mer_GETM", key, node) as Promise<string[]>;
  }

  /** Write back the owner's value; the new version, or -1 when `node` no longer owns the line. */
  async writeBack(key: string, node: string, raw: string, release: "keep" | "S" | "I"): Promise<number> {
    return Number(await this.call("mer_WRITEBACK", key, node, raw, release));
  }

  /** Give up a clean line, keeping a shared copy ("S") or not ("I"). */
  async release(key: string, node: string, mode: "S" | "I"): Promise<void> {
    await this.call("mer_RELEASE", key, node, mode);
  }

  /** Clear `owner`'s ownership if its liveness lease key no longer exists. */
  async forceRelease(key: string, owner: string, leaseKey: string): Promise<void> {
    const run = (this.redis as unknown as Record<string, Command>).mer_FORCE_RELEASE!;
    await run.call(this.redis, ...this.keysOf(key), leaseKey, owner);
  }

  keysOf(key: string): [value: string, directory: string, sharers: string] {
    return [`${this.prefix}:val:${key}`, `${this.prefix}:dir:${key}`, `${this.prefix}:sh:${key}`];
  }

  private call(cmd: string, key: string, ...args: string[]): Promise<unknown> {
    const run = (this.redis as unknown as Record<string, Command>)[cmd]!;
    return run.call(this.redis, ...this.keysOf(key), ...args);
  }
}
