// The level below the directory (L3, the global store). Anything with get/set fits: a Map in tests
// and benches, Redis or PostgreSQL in a deployment.
export interface BackingStore<V> {
  get(key: string): Promise<V | undefined>;
  setMany(entries: ReadonlyArray<readonly [string, V]>): Promise<void>;
}

export class InMemoryStore<V> implements BackingStore<V> {
  readonly data = new Map<string, V>();
  writes = 0;
  async get(key: string): Promise<V | undefined> {
    return this.data.get(key);
  }
  async setMany(entries: ReadonlyArray<readonly [string, V]>): Promise<void> {
    for (const [k, v] of entries) {
      this.data.set(k, v);
      this.writes++;
    }
  }
}
