// One region's Redis copy of strong data: the only code that knows its key layout and scripts. Every call
// is bounded by `timeoutMs` (BackendUnavailableError), so a frozen Redis cannot hold a read or a write.
import type { Region } from "@meridian/core";
import { withDeadline } from "@meridian/store";
import type { Redis } from "ioredis";
import { BEGIN_WRITE, END_WRITE, FILL, GET_OR_LEASE, SET_IF_NEWER } from "./cache-scripts.js";
import type { Fence } from "./strong-table.js";

export type Lookup =
  | { kind: "hit"; json: string; version: number; atMs: number }
  | { kind: "pending" }
  | { kind: "lease" }
  | { kind: "leaseBusy" };

/** What a committed write changed, per key: the new value and version, and the fence it carried. */
export type Changed = Map<string, { json: string; version: number; fence?: Fence }>;

export type SetResult = "set" | "superseded" | "olderVersion" | "staleFence";
const SET_RESULTS: Record<string, SetResult> = {
  1: "set",
  0: "superseded",
  "-1": "olderVersion",
  "-2": "staleFence",
};

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

  /** Marks every key as being written and drops its copy: one script call for all keys. */
  async beginWrite(keys: readonly string[], writerId: string, pendingTtlMs: number): Promise<void> {
    if (keys.length === 0) return;
    await this.bound(
      "invalidation",
      BEGIN_WRITE.run(
        this.redis,
        keys.flatMap((k) => this.keys(k)),
        [writerId, pendingTtlMs],
      ),
    );
  }

  /** Removes this writer's markers: one script call for all keys. */
  async endWrite(keys: readonly string[], writerId: string): Promise<void> {
    if (keys.length === 0) return;
    const pendingAndEntry = keys.flatMap((k) => {
      const [entry, pending] = this.keys(k);
      return [pending, entry];
    });
    await this.bound("end of write", END_WRITE.run(this.redis, pendingAndEntry, [writerId]));
  }

  /**
   * The write-through of one committed transaction's keys (a whole commit group): one script call, the
   * copy generation checked once; see setIfNewer. Each key's outcome.
   */
  async finishWrite(changed: Changed, writerId: string, entryTtlMs: number): Promise<Map<string, SetResult>> {
    return this.setMany([...changed], { writerId, entryTtlMs });
  }

  /** Versioned, fenced write-through; `writerId` finishes that write's invalidation. */
  async setIfNewer(
    key: string,
    json: string,
    version: number,
    opts: { fence?: Fence; writerId?: string; entryTtlMs?: number } = {},
  ): Promise<SetResult> {
    const fence = opts.fence !== undefined ? { fence: opts.fence } : {};
    const out = await this.setMany([[key, { json, version, ...fence }]], opts);
    return out.get(key)!;
  }

  /** One SET_IF_NEWER call for all `entries` (distinct keys). */
  private async setMany(
    entries: readonly [string, { json: string; version: number; fence?: Fence }][],
    opts: { writerId?: string; entryTtlMs?: number },
  ): Promise<Map<string, SetResult>> {
    if (entries.length === 0) return new Map();
    const keys = [`${this.prefix}gen`];
    const args: (string | number)[] = [opts.writerId ?? "", opts.entryTtlMs ?? 0, Date.now()];
    for (const [key, c] of entries) {
      const [entry, pending] = this.keys(key);
      keys.push(entry, pending, `${this.prefix}f:${key}`);
      args.push(c.json, c.version, c.fence?.token ?? 0, c.fence?.holder ?? "");
    }
    const codes = await this.bound("write-through", SET_IF_NEWER.run(this.redis, keys, args));
    // The script answers only these codes; anything else reads as "not written", the safe answer.
    return new Map(entries.map(([key], i) => [key, SET_RESULTS[String(codes[i])] ?? "superseded"]));
  }

  /** Raw entry (tests, diagnostics). */
  async peek(key: string): Promise<{ json: string; version: number } | undefined> {
    const [v, ver] = await this.bound("peek", this.redis.hmget(this.keys(key)[0], "v", "ver"));
    return v === null || v === undefined ? undefined : { json: v, version: Number(ver) };
  }
}
