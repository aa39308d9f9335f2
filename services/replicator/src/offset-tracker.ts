// Which source offsets may be committed. The replicator finishes messages out of order (different WAN
// delays per destination, partitions holding some links), so a partition's committable offset is the
// lowest offset still in flight — never past a message that has not reached every destination.

export class OffsetTracker {
  private readonly pending = new Map<string, Set<bigint>>();
  private readonly highest = new Map<string, bigint>();
  private readonly committed = new Map<string, bigint>();

  private static id(topic: string, partition: number): string {
    return `${topic}\u0000${partition}`;
  }

  /** A message at `offset` was received and is now in flight. */
  begin(topic: string, partition: number, offset: string): void {
    const id = OffsetTracker.id(topic, partition);
    const o = BigInt(offset);
    let set = this.pending.get(id);
    if (!set) {
      set = new Set();
      this.pending.set(id, set);
    }
    set.add(o);
    const hi = this.highest.get(id);
    if (hi === undefined || o > hi) this.highest.set(id, o);
  }

  /** The message reached every destination. */
  finish(topic: string, partition: number, offset: string): void {
    this.pending.get(OffsetTracker.id(topic, partition))?.delete(BigInt(offset));
  }

  /** Messages received but not yet delivered everywhere. */
  inFlight(): number {
    let n = 0;
    for (const set of this.pending.values()) n += set.size;
    return n;
  }

  /**
   * Offsets to commit now (Kafka semantics: the next offset to read), only for partitions whose
   * committable offset moved since the last call to markCommitted.
   */
  committable(): { topic: string; partition: number; offset: string }[] {
    const out: { topic: string; partition: number; offset: string }[] = [];
    for (const [id, hi] of this.highest) {
      const set = this.pending.get(id);
      let next = hi + 1n;
      if (set && set.size > 0) for (const o of set) if (o < next) next = o;
      if (this.committed.get(id) === next) continue;
      const [topic, partition] = id.split("\u0000") as [string, string];
      out.push({ topic, partition: Number(partition), offset: next.toString() });
    }
    return out;
  }

  markCommitted(entries: { topic: string; partition: number; offset: string }[]): void {
    for (const e of entries) this.committed.set(OffsetTracker.id(e.topic, e.partition), BigInt(e.offset));
  }

  /** Partitions with any state (in flight or awaiting commit). */
  partitions(): { topic: string; partition: number }[] {
    return [...this.highest.keys()].map((id) => {
      const [topic, partition] = id.split("\u0000") as [string, string];
      return { topic, partition: Number(partition) };
    });
  }

  /** Forget a partition (revoked in a rebalance): its new owner re-reads from the committed offset. */
  forget(topic: string, partition: number): void {
    const id = OffsetTracker.id(topic, partition);
    this.pending.delete(id);
    this.highest.delete(id);
    this.committed.delete(id);
  }
}
