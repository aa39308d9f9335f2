// A FIFO of coherence messages kept in parallel typed arrays (one slot = type, line, from, to, value,
// flags), so queuing a message allocates nothing; the ring doubles when full (amortized, rare).
export class MessageRing {
  type: Uint8Array;
  line: Int32Array;
  from: Int32Array;
  to: Int32Array;
  value: Float64Array;
  flags: Uint8Array;
  private head = 0;
  private tail = 0;
  private mask: number;

  constructor(capacity = 1024) {
    let cap = 16;
    while (cap < capacity) cap *= 2;
    this.mask = cap - 1;
    this.type = new Uint8Array(cap);
    this.line = new Int32Array(cap);
    this.from = new Int32Array(cap);
    this.to = new Int32Array(cap);
    this.value = new Float64Array(cap);
    this.flags = new Uint8Array(cap);
  }

  get size(): number {
    return this.tail - this.head;
  }

  push(type: number, line: number, from: number, to: number, value: number, flags: number): void {
    if (this.tail - this.head > this.mask) this.grow();
    const i = this.tail & this.mask;
    this.type[i] = type;
    this.line[i] = line;
    this.from[i] = from;
    this.to[i] = to;
    this.value[i] = value;
    this.flags[i] = flags;
    this.tail++;
  }

  /** Slot index of the oldest message; valid until the next push. Call only when size > 0. */
  peek(): number {
    return this.head & this.mask;
  }

  pop(): void {
    this.head++;
  }

  /** Move the oldest message to the back (a directory request that must wait for a busy line). */
  requeueHead(): void {
    const i = this.head & this.mask;
    const t = this.type[i]!;
    const l = this.line[i]!;
    const f = this.from[i]!;
    const to = this.to[i]!;
    const v = this.value[i]!;
    const fl = this.flags[i]!;
    this.head++;
    this.push(t, l, f, to, v, fl);
  }

  private grow(): void {
    const n = (this.mask + 1) * 2;
    const copy = <T extends Uint8Array | Int32Array | Float64Array>(a: T, make: (n: number) => T): T => {
      const b = make(n);
      for (let k = this.head; k < this.tail; k++) b[k - this.head] = a[k & this.mask]!;
      return b;
    };
    this.type = copy(this.type, (k) => new Uint8Array(k));
    this.line = copy(this.line, (k) => new Int32Array(k));
    this.from = copy(this.from, (k) => new Int32Array(k));
    this.to = copy(this.to, (k) => new Int32Array(k));
    this.value = copy(this.value, (k) => new Float64Array(k));
    this.flags = copy(this.flags, (k) => new Uint8Array(k));
    this.tail -= this.head;
    this.head = 0;
    this.mask = n - 1;
  }
}
