// A Lua script run by EVALSHA, falling back to EVAL once when Redis has not cached it (NOSCRIPT).
import { createHash } from "node:crypto";
import type { Redis } from "ioredis";

export class LuaScript {
  readonly sha: string;

  constructor(
    readonly name: string,
    readonly source: string,
    readonly numberOfKeys: number,
  ) {
    this.sha = createHash("sha1").update(source).digest("hex");
  }

  async run(redis: Redis, keys: readonly string[], args: readonly (string | number)[]): Promise<unknown> {
    if (keys.length !== this.numberOfKeys) {
      throw new Error(`${this.name}: expected ${this.numberOfKeys} keys, got ${keys.length}`);
    }
    try {
      return await redis.evalsha(this.sha, keys.length, ...keys, ...args);
    } catch (err) {
      if (!String((err as Error).message).includes("NOSCRIPT")) throw err;
      return await redis.eval(this.source, keys.length, ...keys, ...args);
    }
  }
}
