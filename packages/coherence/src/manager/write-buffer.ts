// A coalescing write buffer between a cache level and the level below it. Dirty values wait here and
// are written in batches: when the buffer is full, when the oldest entry is too old, when a line is
// evicted (flushKey) and on orderly shutdown (close). A failed flush puts its entries back.
export interface WriteBufferOptions {
  /** Flush everything once this many distinct keys are dirty. */
  maxEntries: number;
  /** Flush entries that have been dirty this long. */
  maxAgeMs: number;
  now?: () => number;
}

export type FlushSink<V> = (entries: ReadonlyArray<readonly [string, V]>) => Promise<void>;

interface Entry<V> {
  value: V;
  dirtySince: number;
}

export interface WriteBufferStats {
  puts: number;
  coalesced: number;
  flushedEntries: number;
  flushes: number;
}

export class WriteBuffer<V> {
  private readonly entries = new Map<string, Entry<V>>();
  private chain: Promise<void> = Promise.resolve();
  private timer: NodeJS.Timeout | undefined;
  private closed = false;
  private readonly now: () => number;
  readonly stats: WriteBufferStats = { puts: 0, coalesced: 0, flushedEntries: 0, flushes: 0 };

  constructor(
    private readonly sink: FlushSink<V>,
    private readonly opts: WriteBufferOptions,
  ) {
    this.now = opts.now ?? Date.now;
    this.timer = setInterval(
      () => void this.flushOlderThan(this.opts.maxAgeMs).catch(() => {}),
      Math.max(1, opts.maxAgeMs / 2),
    );
    this.timer.unref();
  }

  get size(): number {
    return this.entries.size;
  }

  has(key: string): boolean {
    return this.entries.has(key);
  }

  /** The buffered (not yet flushed) value of a key. */
  peek(key: string): V | undefined {
    return this.entries.get(key)?.value;
  }

  /** Buffer a dirty value; a second write to the same key replaces the first (one flush for both). */
  put(key: string, value: V): Promise<void> {
    if (this.closed) throw new Error("write buffer is closed");
    this.stats.puts++;
    const existing = this.entries.get(key);
    if (existing) {
      existing.value = value;
      this.stats.coalesced++;
    } else {
      this.entries.set(key, { value, dirtySince: this.now() });
    }
    if (this.entries.size >= this.opts.maxEntries) return this.flushAll();
    return Promise.resolve();
  }

  /** Forget a buffered value without writing it (its line was lost; see CoherentNearCache). */
  discard(key: string): boolean {
    return this.entries.delete(key);
  }

  flushKey(key: string): Promise<void> {
    return this.flushWhere((k) => k === key);
  }

  flushOlderThan(ageMs: number): Promise<void> {
    const cutoff = this.now() - ageMs;
    return this.flushWhere((_k, e) => e.dirtySince <= cutoff);
  }

  flushAll(): Promise<void> {
    return this.flushWhere(() => true);
  }

  /** Orderly shutdown: stop the age timer and write out everything still dirty. */
  async close(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.flushAll();
    this.closed = true;
  }

  // Flushes run one at a time so an older value of a key can never land after a newer one.
  private flushWhere(pick: (key: string, e: Entry<V>) => boolean): Promise<void> {
    const run = async () => {
      const batch: [string, Entry<V>][] = [];
      for (const [k, e] of this.entries) if (pick(k, e)) batch.push([k, e]);
      if (batch.length === 0) return;
      for (const [k] of batch) this.entries.delete(k);
      try {
        await this.sink(batch.map(([k, e]) => [k, e.value] as const));
        this.stats.flushes++;
        this.stats.flushedEntries += batch.length;
      } catch (err) {
        // Put back what failed unless a newer write to the key arrived meanwhile.
        for (const [k, e] of batch) if (!this.entries.has(k)) this.entries.set(k, e);
        throw err;
      }
    };
    const p = this.chain.then(run, run);
    this.chain = p.catch(() => {});
    return p;
  }
}
