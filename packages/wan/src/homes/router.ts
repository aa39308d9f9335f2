// A region's entry point for critical data. It finds the key's home (what it learned from redirects, else
// the policy), serves the key locally when it is the home, and otherwise forwards the request to the home
// region over the WAN, saying so in the answer: `forwarded`, `home` and `forwardMs`. A home that no longer
// owns the key answers NotHomeError with the newer home, which the router learns and follows (a bounded
// number of hops). A home that cannot be reached is a typed BackendUnavailableError — never a local guess.
import { BackendUnavailableError, InvalidInputError, MeridianError, parseRegion } from "@meridian/core";
import type { RpcClient } from "../rpc/client.js";
import type { RpcHandler } from "../rpc/server.js";
import { NotHomeError } from "./errors.js";
import { checkUserKey, type HomeRead, type HomeStore } from "./home-store.js";
import type { HomePolicy } from "./policy.js";
import { parseMovedKey, parseReadOptions, type ReadOptions } from "./wire.js";

export interface Routed {
  /** Region that owns the key and answered. */
  home: string;
  /** Region the request entered. */
  region: string;
  forwarded: boolean;
  /** Served from this region's copy of a read-mostly key (no forwarding; writes keep the copy current). */
  localCopy: boolean;
  /** Round trip of the forwarded request, as the entry region measured it (0 when served locally). */
  forwardMs: number;
  epoch: number;
}

export type GeoRead = Routed & Omit<HomeRead, "epoch">;
export type GeoWrite = Routed & { version: number };
export interface RehomeResult {
  key: string;
  from: string;
  to: string;
  epoch: number;
  tookMs: number;
}

export interface HomeRouterOptions {
  region: string;
  policy: HomePolicy;
  local: HomeStore;
  /** RPC clients to every other region's router, over the WAN. */
  peers: Readonly<Record<string, RpcClient>>;
  /** Read-mostly keys: per remote home, a reader over this region's copies (leases filled from that home). */
  replicas?: Readonly<Record<string, HomeStore>>;
  /** Bound of one forwarded call (default 3000 ms). */
  forwardTimeoutMs?: number;
  /** Redirects followed before giving up (default 3). */
  maxHops?: number;
  /** Learned homes kept (default 100 000; the oldest half is dropped past it). */
  maxLearned?: number;
}

export class HomeRouter {
  readonly region: string;
  private readonly learned = new Map<string, { home: string; epoch: number }>();

  constructor(private readonly o: HomeRouterOptions) {
    this.region = o.region;
  }

  /** Where this region believes `key` lives. */
  homeOf(key: string): { home: string; epoch: number } {
    return this.learned.get(key) ?? { home: this.o.policy.defaultHome(key), epoch: 0 };
  }

  get(key: string, opts: ReadOptions = {}): Promise<GeoRead> {
    checkUserKey(key);
    return this.route(
      key,
      "get",
      { key, opts },
      async () => this.o.local.get(key, opts),
      (home) => {
        const replica = this.o.policy.isReadMostly(key) ? this.o.replicas?.[home] : undefined;
        return replica ? () => replica.get(key, opts) : undefined;
      },
    );
  }

  set(key: string, value: unknown): Promise<GeoWrite> {
    checkUserKey(key);
    if (value === undefined) throw new InvalidInputError("value is required");
    return this.route(key, "set", { key, value }, async () => this.o.local.set(key, value));
  }

  /** Moves `key`'s home to `to`: fence at the current home, hand over, resume there. */
  async rehome(key: string, to: string): Promise<RehomeResult> {
    checkUserKey(key);
    parseRegion(to, this.o.policy.regions, "to");
    const startedAt = performance.now();
    const r = await this.route(key, "rehome", { key, to }, async () => this.moveFromHere(key, to));
    return { ...(r as unknown as RehomeResult), tookMs: performance.now() - startedAt };
  }

  /** Handler for requests forwarded by other regions: served here or refused, never forwarded again. */
  readonly serve: RpcHandler = async (method, params) => {
    const p = (params ?? {}) as { key?: unknown; value?: unknown; opts?: unknown; to?: unknown };
    checkUserKey(p.key);
    switch (method) {
      case "get":
        return this.o.local.get(p.key, parseReadOptions(p.opts));
      case "set":
        if (p.value === undefined) throw new InvalidInputError("value is required", { field: "value" });
        return this.o.local.set(p.key, p.value);
      case "rehome":
        return this.moveFromHere(p.key, parseRegion(p.to, this.o.policy.regions, "to"));
      case "adopt":
        return this.o.local.adopt(parseMovedKey(params));
      default:
        throw new InvalidInputError(`unknown method ${method}`);
    }
  };

  private async moveFromHere(key: string, to: string) {
    if (to === this.region) {
      const { epoch } = await this.o.local.get(key);
      return { key, from: to, to, epoch };
    }
    const moved = await this.o.local.fenceOut(key, to);
    this.learn(key, to, moved.epoch);
    const peer = this.peer(to);
    await peer.call("adopt", moved, this.o.forwardTimeoutMs);
    return { key, from: this.region, to, epoch: moved.epoch };
  }

  private async route<T extends { epoch: number }>(
    key: string,
    method: string,
    params: unknown,
    local: () => Promise<T>,
    copyOf: (home: string) => (() => Promise<T>) | undefined = () => undefined,
  ): Promise<T & Routed> {
    const maxHops = this.o.maxHops ?? 3;
    for (let hop = 0; ; hop++) {
      const { home } = this.homeOf(key);
      const startedAt = performance.now();
      try {
        const copy = home === this.region ? undefined : copyOf(home);
        const forwarded = home !== this.region && copy === undefined;
        const r = forwarded
          ? await this.peer(home).call<T>(method, params, this.o.forwardTimeoutMs)
          : await (copy ?? local)();
        const forwardMs = forwarded ? performance.now() - startedAt : 0;
        return { ...r, home, region: this.region, forwarded, localCopy: copy !== undefined, forwardMs };
      } catch (err) {
        if (!(err instanceof NotHomeError)) throw typed(err);
        if (hop >= maxHops) throw moving(err);
        if (!this.learn(key, err.home, err.epoch) && err.home === home) throw err;
      }
    }
  }

  /** Records a redirect; false when it taught nothing newer than what is known. */
  private learn(key: string, home: string, epoch: number): boolean {
    const known = this.learned.get(key);
    if (known && known.epoch > epoch) return false;
    if (known && known.epoch === epoch && known.home === home) return false;
    const max = this.o.maxLearned ?? 100_000;
    if (this.learned.size >= max) {
      let drop = Math.floor(max / 2);
      for (const k of this.learned.keys()) {
        if (drop-- <= 0) break;
        this.learned.delete(k);
      }
    }
    this.learned.set(key, { home, epoch });
    return true;
  }

  private peer(region: string): RpcClient {
    const peer = this.o.peers[region];
    if (!peer) throw new BackendUnavailableError(`no link to region ${region}`, { backend: "wan", region });
    return peer;
  }
}

/** Driver failures (a WAN command timing out, a dropped connection) surface as BackendUnavailableError. */
function typed(err: unknown): unknown {
  if (err instanceof MeridianError) return err;
  return new BackendUnavailableError(`critical data unavailable: ${(err as Error)?.message ?? err}`, {
    backend: "wan",
    cause: String(err),
  });
}

/** Redirects ran out: the key is between homes (a hand-over not finished yet). Nothing was applied. */
function moving(err: NotHomeError): BackendUnavailableError {
  return new BackendUnavailableError(`${err.key} is being re-homed (last seen toward ${err.home})`, {
    backend: "wan",
    key: err.key,
    home: err.home,
    epoch: err.epoch,
    outcome: "not-sent",
  });
}
