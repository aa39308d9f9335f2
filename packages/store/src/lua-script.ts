// The one way Meridian runs Lua in Redis. A script is registered once per ioredis client as a custom
// command (defineCommand): ioredis then sends EVALSHA, sends the source only the first time on a
// connection, and when Redis answers NOSCRIPT (restart, failover, SCRIPT FLUSH) resends it as EVAL.
// KEYS are declared, so ioredis' keyPrefix and cluster slot routing apply to them as to any command.
//
// ioredis auto-pipelining: the turn's pipeline is made by the turn's first command and knows only the
// commands defined on the client by then; queuing a newer one there misaligns its replies and crashes
// the process (ioredis 5.x and 6.0.0). So the first script used on a client defines every script made so
// far, and a script defined later runs in a pipeline of its own until that turn's pipeline has gone out.
import { InvalidInputError } from "@meridian/core";
import type { ChainableCommander, Redis } from "ioredis";

export type LuaArg = string | number;
type Invoke<R> = (...args: LuaArg[]) => Promise<R>;

/** command name → source of every script made in this process: one name must mean one script. */
const sources = new Map<string, string>();
const scripts = new Map<string, LuaScript>();
const definedOn = new WeakMap<Redis, Set<string>>();
/** Commands defined on a client since its pending auto-pipeline was made (that pipeline lacks them). */
const newerThanPipeline = new WeakMap<Redis, Set<string>>();

export class LuaScript<R = unknown> {
  /** Name of the custom command on a client (prefixed so it never shadows an ioredis method). */
  readonly command: string;

  constructor(
    readonly name: string,
    readonly source: string,
    /** KEYS per call, or "variadic": any number of keys per call (a script over a batch of keys). */
    readonly numberOfKeys: number | "variadic",
  ) {
    this.command = `meridian_${name}`;
    const known = sources.get(this.command);
    if (known !== undefined && known !== source) {
      throw new InvalidInputError(`two different Lua scripts are named ${name}`, { name });
    }
    sources.set(this.command, source);
    if (!scripts.has(this.command)) scripts.set(this.command, this);
  }

  /**
   * Registers the script on `redis` (idempotent) — on first contact with a client, every script made so
   * far in this process — so pipelines made afterwards can queue it.
   */
  defineOn(redis: Redis): void {
    let names = definedOn.get(redis);
    if (!names) {
      names = new Set();
      definedOn.set(redis, names);
      for (const script of scripts.values()) script.define(redis, names);
    }
    this.define(redis, names);
  }

  async run(redis: Redis, keys: readonly string[], args: readonly LuaArg[] = []): Promise<R> {
    this.checkKeys(keys);
    this.defineOn(redis);
    if (newerThanPipeline.get(redis)?.has(this.command)) return this.runAlone(redis, keys, args);
    return this.invoker(redis)(...this.keyArgs(keys), ...args);
  }

  /** Queues a call on a pipeline of a client this script was defined on before the pipeline was made. */
  queue(pipeline: ChainableCommander, keys: readonly string[], args: readonly LuaArg[] = []): void {
    this.checkKeys(keys);
    void this.invoker(pipeline)(...this.keyArgs(keys), ...args);
  }

  /** A variadic script's calls name their number of keys first (ioredis then sends it as EVALSHA's numkeys). */
  private keyArgs(keys: readonly string[]): LuaArg[] {
    return this.numberOfKeys === "variadic" ? [keys.length, ...keys] : [...keys];
  }

  private define(redis: Redis, names: Set<string>): void {
    if (names.has(this.command)) return;
    const numberOfKeys = this.numberOfKeys === "variadic" ? undefined : this.numberOfKeys;
    redis.defineCommand(this.command, {
      ...(numberOfKeys === undefined ? {} : { numberOfKeys }),
      lua: this.source,
    });
    names.add(this.command);
    if (redis.options.enableAutoPipelining) markNewerThanPipeline(redis, this.command);
  }

  /** One call in a pipeline made now (which knows the script), outside the turn's auto-pipeline. */
  private async runAlone(redis: Redis, keys: readonly string[], args: readonly LuaArg[]): Promise<R> {
    const pipeline = redis.pipeline();
    this.queue(pipeline, keys, args);
    const [[err, value]] = ((await pipeline.exec()) ?? [[null, null]]) as [[Error | null, R]];
    if (err) throw err;
    return value;
  }

  private invoker(target: Redis | ChainableCommander): Invoke<R> {
    const fn = (target as unknown as Record<string, Invoke<R> | undefined>)[this.command];
    if (!fn) throw new InvalidInputError(`Lua script ${this.name} is not defined on this client`);
    return fn.bind(target);
  }

  private checkKeys(keys: readonly string[]): void {
    if (this.numberOfKeys !== "variadic" && keys.length !== this.numberOfKeys) {
      throw new InvalidInputError(`${this.name}: expected ${this.numberOfKeys} keys, got ${keys.length}`, {
        name: this.name,
      });
    }
  }
}

/**
 * Marks `command` as unknown to the client's pending auto-pipeline until that pipeline has been sent:
 * ioredis sends it from a setImmediate queued when it was made, so one queued now runs after it.
 */
function markNewerThanPipeline(redis: Redis, command: string): void {
  let pending = newerThanPipeline.get(redis);
  if (!pending) {
    pending = new Set();
    newerThanPipeline.set(redis, pending);
  }
  if (pending.size === 0) setImmediate(() => pending.clear());
  pending.add(command);
}
