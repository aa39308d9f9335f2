// In-memory implementations of the monitor's probes: a tiny replicated key-value "system" whose regions
// can be stalled and whose strong cache can be made to serve a stale version. For unit tests and docs.
import type { KeyDigests, KeyValueTarget, RegionDigestSource, StateLattice, StrongProbe } from "./probes.js";

/** Regions replicating last-writer-wins by a global sequence number, so late deliveries never regress. */
export class InMemoryRegions implements RegionDigestSource {
  readonly data = new Map<string, Map<string, { value: string; seq: number }>>();
  readonly stalled = new Set<string>();
  private readonly pending: Array<{ region: string; key: string; value: string; seq: number; due: number }> =
    [];
  private seq = 0;
  /** Digests are `<seq>:<value>`; the newer sequence number wins (a last-writer-wins lattice). */
  readonly lattice?: StateLattice;

  constructor(
    readonly regionNames: readonly string[],
    private readonly delayMs = 50,
    private readonly clock: () => number = Date.now,
    withLattice = true,
  ) {
    for (const r of regionNames) this.data.set(r, new Map());
    if (withLattice) {
      const seqOf = (d: string) => Number(d.slice(0, d.indexOf(":")));
      this.lattice = {
        join: (ds) => ds.reduce((best, d) => (seqOf(d) > seqOf(best) ? d : best)),
        leq: (a, b) => seqOf(a) <= seqOf(b),
      };
    }
  }

  regions(): readonly string[] {
    return this.regionNames;
  }

  /** Writes in `origin` now; the other regions get it after `delayMs` (never, while stalled). */
  write(origin: string, key: string, value: string): void {
    const seq = ++this.seq;
    this.data.get(origin)!.set(key, { value, seq });
    for (const r of this.regionNames) {
      if (r !== origin) this.pending.push({ region: r, key, value, seq, due: this.clock() + this.delayMs });
    }
  }

  /** Applies due replication (stalled regions keep theirs queued). */
  deliver(): void {
    const now = this.clock();
    for (let i = 0; i < this.pending.length; ) {
      const p = this.pending[i]!;
      if (p.due <= now && !this.stalled.has(p.region)) {
        const store = this.data.get(p.region)!;
        if ((store.get(p.key)?.seq ?? 0) < p.seq) store.set(p.key, { value: p.value, seq: p.seq });
        this.pending.splice(i, 1);
      } else i++;
    }
  }

  async snapshot(region: string): Promise<KeyDigests> {
    this.deliver();
    return new Map([...this.data.get(region)!].map(([k, v]) => [k, `${v.seq}:${v.value}`]));
  }
}

/** A strong store: a "database" of versions and per-region caches; `staleRegion` serves an old version. */
export class InMemoryStrong implements StrongProbe, KeyValueTarget {
  readonly db = new Map<string, { value: unknown; version: number }>();
  readonly caches = new Map<string, Map<string, { value: unknown; version: number }>>();
  /** Regions whose cache is not invalidated on write (the injected fault). */
  readonly skipInvalidation = new Set<string>();

  constructor(readonly regionNames: readonly string[]) {
    for (const r of regionNames) this.caches.set(r, new Map());
  }

  regions(): readonly string[] {
    return this.regionNames;
  }

  async candidateKeys(): Promise<readonly string[]> {
    return [...this.db.keys()];
  }

  async readDbVersion(key: string): Promise<number | null> {
    return this.db.get(key)?.version ?? null;
  }

  async readCacheVersion(key: string, region: string): Promise<number | null> {
    return (await this.read(key, region)).version;
  }

  async read(key: string, region: string): Promise<{ value: unknown; version: number | null }> {
    const cache = this.caches.get(region)!;
    let entry = cache.get(key);
    if (!entry) {
      entry = this.db.get(key);
      if (entry) cache.set(key, entry);
    }
    return { value: entry?.value ?? null, version: entry?.version ?? null };
  }

  async write(key: string, value: unknown, region: string): Promise<{ version: number | null }> {
    const version = (this.db.get(key)?.version ?? 0) + 1;
    const entry = { value, version };
    this.db.set(key, entry);
    for (const [r, cache] of this.caches) {
      if (r === region) cache.set(key, entry);
      else if (!this.skipInvalidation.has(r)) cache.delete(key);
    }
    return { version };
  }
}
