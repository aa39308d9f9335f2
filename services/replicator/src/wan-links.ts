// The simulated WAN: one FIFO queue per directed link (source region → destination region). A message
// becomes deliverable `latency` ms after it arrived, never before the message ahead of it on the same
// link (so one key's updates keep their order). A partitioned region's links hold their messages —
// nothing is dropped — and release them when the region heals.

export interface LinkItem<T> {
  readyAt: number;
  payload: T;
}

export type Busy = ReadonlySet<string> | ((from: string, to: string) => boolean);

function isBusy(busy: Busy, id: string): boolean {
  if (typeof busy !== "function") return busy.has(id);
  const [from, to] = id.split("\u0000") as [string, string];
  return busy(from, to);
}

export class WanLinks<T> {
  private readonly queues = new Map<string, LinkItem<T>[]>();
  private readonly partitioned = new Set<string>();

  constructor(private latencyMs: (from: string, to: string) => number) {}

  setLatency(latencyMs: (from: string, to: string) => number): void {
    this.latencyMs = latencyMs;
  }

  private static link(from: string, to: string): string {
    return `${from}\u0000${to}`;
  }

  enqueue(from: string, to: string, payload: T, now: number): void {
    const id = WanLinks.link(from, to);
    let q = this.queues.get(id);
    if (!q) {
      q = [];
      this.queues.set(id, q);
    }
    const last = q[q.length - 1];
    const readyAt = Math.max(now + this.latencyMs(from, to), last ? last.readyAt : 0);
    q.push({ readyAt, payload });
  }

  /** Puts items back at the head of a link (a failed produce), ready at once, order kept. */
  requeueFront(from: string, to: string, payloads: T[]): void {
    const id = WanLinks.link(from, to);
    const q = this.queues.get(id) ?? [];
    this.queues.set(id, [...payloads.map((payload) => ({ readyAt: 0, payload })), ...q]);
  }

  partition(region: string): void {
    this.partitioned.add(region);
  }

  heal(region: string): void {
    this.partitioned.delete(region);
  }

  isPartitioned(region: string): boolean {
    return this.partitioned.has(region);
  }

  partitions(): string[] {
    return [...this.partitioned].sort();
  }

  private blocked(id: string): boolean {
    const [from, to] = id.split("\u0000") as [string, string];
    return this.partitioned.has(from) || this.partitioned.has(to);
  }

  /**
   * Removes and returns, per open link, the prefix of messages due at `now` (at most `max` per link).
   * Busy links (a set of link ids, or a predicate on from/to) are skipped so a link has one batch in
   * flight at a time (keeps FIFO).
   */
  takeDue(now: number, busy: Busy, max = 500): { from: string; to: string; link: string; items: T[] }[] {
    const out: { from: string; to: string; link: string; items: T[] }[] = [];
    for (const [id, q] of this.queues) {
      if (q.length === 0 || isBusy(busy, id) || this.blocked(id)) continue;
      let n = 0;
      while (n < q.length && n < max && q[n]!.readyAt <= now) n++;
      if (n === 0) continue;
      const [from, to] = id.split("\u0000") as [string, string];
      out.push({ from, to, link: id, items: q.splice(0, n).map((i) => i.payload) });
    }
    return out;
  }

  /** Earliest time a message on an open, idle link becomes due; undefined when none is waiting. */
  nextDueAt(busy: Busy): number | undefined {
    let next: number | undefined;
    for (const [id, q] of this.queues) {
      if (q.length === 0 || isBusy(busy, id) || this.blocked(id)) continue;
      const at = q[0]!.readyAt;
      if (next === undefined || at < next) next = at;
    }
    return next;
  }

  /** Messages waiting, per link "from→to" (held by a partition or by latency). */
  depths(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const [id, q] of this.queues) out[id.replace("\u0000", "→")] = q.length;
    return out;
  }

  size(): number {
    let n = 0;
    for (const q of this.queues.values()) n += q.length;
    return n;
  }
}
