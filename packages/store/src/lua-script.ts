// The one way Meridian runs Lua in Redis. A script is registered once per ioredis client as a custom
// command (defineCommand): ioredis then sends EVALSHA, sends the source only the first time on a
// connection, and when Redis answers NOSCRIPT (restart, failover, SCRIPT FLUSH) resends it as EVAL.
// KEYS are declared, so ioredis' keyPrefix and cluster slot routing apply to them as to any command.
import { InvalidInputError } from "@meridian/core";
import type { ChainableCommander, Redis } from "ioredis";

export type LuaArg = string | number;
type Invoke<R> = (...args: LuaArg[]) => Promise<R>;

/** command name → source of every script made in this process: one name must mean one script. */
const sources = new Map<string, string>();
const definedOn = new WeakMap<Redis, Set<string>>();

export class LuaScript<R = unknown> {
  /** Name of the custom command on a client (prefixed so it never shadows an ioredis method). */
  readonly command: string;

  constructor(
    readonly name: string,
    readonly source: string,
    readonly numberOfKeys: number,
  ) {
    this.command = `meridian_${name}`;
    const known = sources.get(this.command);
    if (known !== undefined && known !== source) {
      throw new InvalidInputError(`two different Lua scripts are named ${name}`, { name });
    }
    sources.set(this.command, source);
  }

  /** Registers the script on `redis` (idempotent); pipelines made afterwards can queue it. */
  defineOn(redis: Redis): void {
    let names = definedOn.get(redis);
    if (!names) {
      names = new Set();
      definedOn.set(redis, names);
    }
    if (names.has(this.command)) return;
    redis.defineCommand(this.command, { numberOfKeys: this.numberOfKeys, lua: this.source });
    names.add(this.command);
  }

  async run(redis: Redis, keys: readonly string[], args: readonly LuaArg[] = []): Promise<R> {
    this.checkKeys(keys);
    this.defineOn(redis);
    return this.invoker(redis)(...keys, ...args);
  }

  /** Queues a call on a pipeline of a client this script was defined on before the pipeline was made. */
  queue(pipeline: ChainableCommander, keys: readonly string[], args: readonly LuaArg[] = []): void {
    this.checkKeys(keys);
    void this.invoker(pipeline)(...keys, ...args);
  }

  private invoker(target: Redis | ChainableCommander): Invoke<R> {
    const fn = (target as unknown as Record<string, Invoke<R> | undefined>)[this.command];
    if (!fn) throw new InvalidInputError(`Lua script ${this.name} is not defined on this client`);
    return fn.bind(target);
  }

  private checkKeys(keys: readonly string[]): void {
    if (keys.length !== this.numberOfKeys) {
      throw new InvalidInputError(`${this.name}: expected ${this.numberOfKeys} keys, got ${keys.length}`, {
        name: this.name,
      });
    }
  }
}
