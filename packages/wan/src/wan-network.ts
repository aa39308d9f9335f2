// The simulated WAN between regions: for every server that lives in a region (a Redis, a PostgreSQL
// schema's server, a home-region RPC endpoint) one LinkProxy per other region, so a client in region A
// reaches a server of region B only through the A→B link and pays its delay both ways. Partitioning a
// region cuts every link into and out of it; the same control is what the replicator obeys.
import { InvalidInputError, parseRegion } from "@meridian/core";
import { type Endpoint, LinkProxy } from "./link-proxy.js";

export type OneWayDelay = (from: string, to: string) => number;

export interface WanNetworkOptions {
  regions: readonly string[];
  /** One-way delay of each directed link in ms. */
  latencyMs: OneWayDelay;
}

interface Service {
  region: string;
  upstream: Endpoint;
  /** Proxies by client region. */
  links: Map<string, LinkProxy>;
}

export class WanNetwork {
  private readonly services = new Map<string, Service>();
  private readonly cutRegions = new Set<string>();
  private latency: OneWayDelay;

  constructor(private readonly opts: WanNetworkOptions) {
    this.latency = opts.latencyMs;
  }

  get regions(): readonly string[] {
    return this.opts.regions;
  }

  /** Puts server `name` (living in `region`, reachable at `upstream`) behind a link from every other region. */
  async addService(name: string, region: string, upstream: Endpoint): Promise<void> {
    this.checkRegion(region);
    if (this.services.has(name)) throw new InvalidInputError(`WAN service ${name} already exists`);
    const service: Service = { region, upstream, links: new Map() };
    this.services.set(name, service);
    for (const from of this.opts.regions) {
      if (from === region) continue;
      const proxy = new LinkProxy({ upstream, delayMs: () => this.latency(from, region) });
      await proxy.start();
      if (this.cutRegions.has(from) || this.cutRegions.has(region)) proxy.cut();
      service.links.set(from, proxy);
    }
  }

  /** Where a client in `from` connects to reach service `name`: the server itself when local, else the link. */
  address(from: string, name: string): Endpoint {
    this.checkRegion(from);
    const service = this.services.get(name);
    if (!service) throw new InvalidInputError(`unknown WAN service ${name}`);
    if (from === service.region) return service.upstream;
    return service.links.get(from)!.address;
  }

  has(name: string): boolean {
    return this.services.has(name);
  }

  /** Region a service lives in. */
  regionOf(name: string): string {
    const service = this.services.get(name);
    if (!service) throw new InvalidInputError(`unknown WAN service ${name}`);
    return service.region;
  }

  setLatency(latencyMs: OneWayDelay): void {
    this.latency = latencyMs;
  }

  oneWayMs(from: string, to: string): number {
    return from === to ? 0 : this.latency(from, to);
  }

  /** Cuts every link into and out of `region`: new connections refused, open ones stalled. */
  partition(region: string): void {
    this.checkRegion(region);
    this.cutRegions.add(region);
    this.applyCuts();
  }

  heal(region: string): void {
    this.checkRegion(region);
    this.cutRegions.delete(region);
    this.applyCuts();
  }

  partitions(): string[] {
    return [...this.cutRegions].sort();
  }

  async stop(): Promise<void> {
    const proxies = [...this.services.values()].flatMap((s) => [...s.links.values()]);
    this.services.clear();
    await Promise.all(proxies.map((p) => p.stop()));
  }

  private applyCuts(): void {
    for (const service of this.services.values()) {
      for (const [from, proxy] of service.links) {
        const cut = this.cutRegions.has(from) || this.cutRegions.has(service.region);
        if (cut && !proxy.isCut) proxy.cut();
        if (!cut && proxy.isCut) proxy.heal();
      }
    }
  }

  private checkRegion(region: string): void {
    parseRegion(region, this.opts.regions);
  }
}
