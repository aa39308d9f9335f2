// One region's Redis copy of strong data: the only code that knows its key layout and scripts. Every call
// is bounded by `timeoutMs` (BackendUnavailableError), so a frozen Redis cannot hold a read or a write.
import type { Region } from "@meridian/core";
import { withDeadline } from "@meridian/store";
import type { Redis } from "ioredis";
import { BEGIN_WRITE, END_WRITE, FILL, GET_OR_LEASE, SET_IF_NEWER } from "./cache-scripts.js";
import { pipelined } from "./pipelined.js";
import type { Fence } from "./strong-table.js";

export type Lookup =
  | { kind: "hit"; json: string; version: number; atMs: number }
  | { kind: "pending" }
  | { kind: "lease" }
  | { kind: "leaseBusy" };

/** What a committed write changed, per key: the new value and version, and the fence it carried. */
export type Changed = Map<string, { json: string; version: number; fence?: Fence }>;

export type SetResult = "set" | "superseded" | "olderVersion" | "staleFence";

export class RegionCache {
  constructor(
    readonly region: Region,
    readonly redis: Redis,
    private readonly prefix: string,
    /** Bound on one Redis call. */
    private readonly timeoutMs = 1_000,
  ) {}

  private keys(key: string): [string, string, string] {
    return [`${this.prefix}e:${key}`, `${this.prefix}p:${key}`, `${this.prefix}l:${key}`];
  }

  /** entry, pending, lease + the region's copy-generation hash (lookup and fill). */
  private readKeys(key: string): string[] {
    return [...this.keys(key), `${this.prefix}gen`];
  }

  private bound<T>(what: string, call: Promise<T>): Promise<T> {
    return withDeadline("redis", `${what} in ${this.region}`, this.timeoutMs, call);
  }

  async lookup(key: string, leaseToken: string, leaseTtlMs: number): Promise<Lookup> {
    const r = (await this.bound(
      "lookup",
      GET_OR_LEASE.run(this.redis, this.readKeys(key), [leaseToken, leaseTtlMs]),
    )) as unknown[];
    switch (Number(r[0])) {
      case 1:
        return { kind: "hit", json: String(r[1]), version: Number(r[2]), atMs: Number(r[3]) };
      case 2:
        return { kind: "pending" };
      case 3:
        return { kind: "lease" };
      default:
        return { kind: "leaseBusy" };
    }
  }

  async fill(
    key: string,
    leaseToken: string,
    json: string,
    version: number,
    entryTtlMs: number,
  ): Promise<boolean> {
    const r = await this.bound(
      "fill",
      FILL.run(this.redis, this.readKeys(key), [leaseToken, json, version, Date.now(), entryTtlMs]),
    );
    return Number(r) === 1;
  }

  /** Marks every key as being written and drops its copy: one pipelined round trip for all keys. */
  async beginWrite(keys: readonly string[], writerId: string, pendingTtlMs: number): Promise<void> {
    await this.bound(
      "invalidation",
      pipelined(
        this.redis,
        BEGIN_WRITE,
        keys.map((k) => [this.keys(k), [writerId, pendingTtlMs]]),
      ),
    );
  }

  /** Removes this writer's markers (one pipelined round trip). */
  async endWrite(keys: readonly string[], writerId: string): Promise<void> {
    await this.bound(
      "end of write",
      pipelined(
        this.redis,
        END_WRITE,
        keys.map((k) => {
          const [entry, pending] = this.keys(k);
          return [[pending, entry], [writerId]];
        }),
      ),
    );
  }

  /** The write-through of one committed transaction's keys (one pipelined round trip); see setIfNewer. */
  async finishWrite(changed: Changed, writerId: string, entryTtlMs: number): Promise<void> {
    await this.bound(
      "write-through",
      pipelined(
        this.redis,
        SET_IF_NEWER,
        [...changed].map(([k, c]) => [
          this.setKeys(k),
          this.setArgs(c.json, c.version, {
            writerId,
            entryTtlMs,
            ...(c.fence !== undefined ? { fence: c.fence } : {}),
          }),
        ]),
      ),
    );
  }

  /** Versioned, fenced write-through; `writerId` finishes that write's invalidation. */
  async setIfNewer(
    key: string,
    json: string,
    version: number,
    opts: { fence?: Fence; writerId?: string; entryTtlMs?: number } = {},
  ): Promise<SetResult> {
    const r = Number(
      await this.bound(
        "write-through",
        SET_IF_NEWER.run(this.redis, this.setKeys(key), this.setArgs(json, version, opts)),
      ),
    );
    return r === 1 ? "set" : r === 0 ? "superseded" : r === -1 ? "olderVersion" : "staleFence";
  }

  /** KEYS of SET_IF_NEWER: entry, pending, fence, gen. */
  private setKeys(key: string): string[] {
    const [entry, pending] = this.keys(key);
    return [entry, pending, `${this.prefix}f:${key}`, `${this.prefix}gen`];
  }

  /** ARGV of SET_IF_NEWER: v, ver, atMs, fence, writerId, entryTtlMs, fence holder. */
  private setArgs(
    json: string,
    version: number,
    opts: { fence?: Fence; writerId?: string; entryTtlMs?: number },
  ): (string | number)[] {
    return [
      json,
      version,
      Date.now(),
      opts.fence?.token ?? 0,
      opts.writerId ?? "",
      opts.entryTtlMs ?? 0,
      opts.fence?.holder ?? "",
    ];
  }

  /** Raw entry (tests, diagnostics). */
  async peek(key: string): Promise<{ json: string; version: number } | undefined> {
    const [v, ver] = await this.bound("peek", this.redis.hmget(this.keys(key)[0], "v", "ver"));
    return v === null || v === undefined ? undefined : { json: v, version: Number(ver) };
  }
}
