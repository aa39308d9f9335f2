// Histories of a key-value store: what each client invoked, what it got back, and when (call / return).
// An operation whose outcome is unknown (timeout, lost connection) has no output and ret = Infinity: it
// may or may not have taken effect, so the checker may linearize it anywhere after its call, or not at all.

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

export type KvInput =
  | { type: "read"; key: string }
  | { type: "write"; key: string; value: Json }
  /** `expected: undefined` = succeeds only if the key is absent. */
  | { type: "cas"; key: string; expected: Json | undefined; value: Json }
  /** A multi-key transaction over `keys`; what it read and wrote is in its output. */
  | { type: "txn"; keys: string[]; writes?: Record<string, Json> };

export type KvOutput =
  | { type: "read"; value: Json | undefined }
  | { type: "write" }
  | { type: "cas"; ok: boolean }
  /** reads: value seen per key (undefined = absent); writes: values the transaction committed. */
  | { type: "txn"; reads: Record<string, Json | undefined>; writes: Record<string, Json> };

export interface Operation {
  id: number;
  client: string;
  input: KvInput;
  output?: KvOutput;
  /** Invocation and response times (same clock, e.g. performance.now()); ret = Infinity if unknown. */
  call: number;
  ret: number;
}

export function keysOf(input: KvInput): string[] {
  return input.type === "txn" ? input.keys : [input.key];
}

/** Thread-safe enough for one Node process: records invocations and responses with a monotonic clock. */
export class HistoryRecorder {
  private readonly ops = new Map<number, Operation>();
  private nextId = 0;

  constructor(private readonly clock: () => number = () => performance.now()) {}

  invoke(client: string, input: KvInput): number {
    const id = this.nextId++;
    this.ops.set(id, { id, client, input, call: this.clock(), ret: Number.POSITIVE_INFINITY });
    return id;
  }

  ok(id: number, output: KvOutput): void {
    const op = this.ops.get(id);
    if (!op) throw new Error(`unknown operation ${id}`);
    op.ret = this.clock();
    op.output = output;
  }

  /** The operation definitely did not take effect (e.g. validation or fencing refusal): forget it. */
  discard(id: number): void {
    this.ops.delete(id);
  }

  /** The outcome is unknown: keep it as possibly applied, with no response. */
  unknown(_id: number): void {}

  history(): Operation[] {
    return [...this.ops.values()].sort((a, b) => a.call - b.call);
  }

  get size(): number {
    return this.ops.size;
  }
}
