// Wing & Gong's linearizability search with Lowe's memoization, as in Porcupine: call/return events in a
// doubly linked list; repeatedly try to linearize a pending call whose model step accepts its output,
// lifting it (and its return) out of the list; at a return event nothing can be linearized any more, so
// backtrack. A cache of (set of linearized operations, model state) prunes configurations already seen.
import type { Operation } from "./history.js";
import type { KvModel, KvState } from "./kv-model.js";

interface Node {
  op: number; // index into ops; -1 for the head sentinel
  isCall: boolean;
  match: Node | undefined; // call -> its return (undefined for an operation that never returned)
  prev: Node | undefined;
  next: Node | undefined;
}

export type SearchOutcome =
  | { status: "linearizable"; order: number[] }
  | { status: "not-linearizable" }
  | { status: "unknown" };

export interface SearchOptions {
  /** performance.now() after which the search gives up with "unknown". */
  deadline?: number;
}

/**
 * `ops[i].ret === Infinity` marks an optional operation (its response is beyond the horizon, or unknown):
 * it may be linearized anywhere after its call, or not at all. All other operations must be linearized.
 */
export function searchLinearization(
  ops: readonly Operation[],
  model: KvModel,
  initial: KvState,
  options: SearchOptions = {},
): SearchOutcome {
  const head = buildList(ops);
  const steps = ops.map((o) => model.compile(o.input, o.output));
  let required = ops.reduce((n, o) => n + (Number.isFinite(o.ret) ? 1 : 0), 0);
  if (required === 0) return { status: "linearizable", order: [] };

  const bits = new LinearizedSet(ops.length);
  const seen = new Set<string>();
  // forced: the operation left the state unchanged, so it was linearized without a choice point.
  const stack: { node: Node; state: KvState; forced: boolean }[] = [];
  let state = initial;
  let node: Node | undefined = head.next;
  let fresh = true; // a configuration not yet scanned for state-preserving candidates
  let iterations = 0;

  /** Linearizes `n` unless (set, next state) was explored before; true when every required op is placed. */
  const tryLinearize = (n: Node, next: KvState, forced: boolean): "done" | "pushed" | "seen" => {
    bits.add(n.op);
    const key = `${bits.key()}|${model.stateKey(next)}`;
    if (seen.has(key)) {
      bits.remove(n.op);
      return "seen";
    }
    seen.add(key);
    stack.push({ node: n, state, forced });
    state = next;
    lift(n);
    if (Number.isFinite(ops[n.op]!.ret) && --required === 0) return "done";
    return "pushed";
  };

  /** Undoes frames up to and including the last one that was a real choice; false when none is left. */
  const backtrack = (): boolean => {
    while (true) {
      const top = stack.pop();
      if (!top) return false;
      state = top.state;
      bits.remove(top.node.op);
      if (Number.isFinite(ops[top.node.op]!.ret)) required++;
      unlift(top.node);
      if (!top.forced) {
        node = top.node.next;
        return true;
      }
    }
  };

  const witness = (): SearchOutcome => ({
    status: "linearizable",
    order: stack.map((f) => ops[f.node.op]!.id),
  });

  while (true) {
    if (
      options.deadline !== undefined &&
      (++iterations & 1023) === 0 &&
      performance.now() > options.deadline
    ) {
      return { status: "unknown" };
    }
    if (fresh) {
      fresh = false;
      // A candidate that leaves the state unchanged (a matching read, a failed CAS) can be moved to the
      // front of any completion of this configuration: everything that must precede it is already placed,
      // and it changes no later state. So it is linearized now, and if that fails, this configuration fails.
      let forced: "done" | "pushed" | "seen" | undefined;
      for (let n = head.next; n?.isCall; n = n.next) {
        if (steps[n.op]!(state) === state) {
          forced = tryLinearize(n, state, true);
          break;
        }
      }
      if (forced === "done") return witness();
      if (forced === "pushed") {
        fresh = true;
        continue;
      }
      if (forced === "seen") {
        if (!backtrack()) return { status: "not-linearizable" };
        continue;
      }
      node = head.next;
    }
    if (node === undefined) return { status: "not-linearizable" }; // defensive: cannot happen with required > 0
    if (node.isCall) {
      const next = steps[node.op]!(state);
      if (next !== undefined) {
        const r = tryLinearize(node, next, false);
        if (r === "done") return witness();
        if (r === "pushed") {
          fresh = true;
          continue;
        }
      }
      node = node.next;
    } else {
      // A return event: its operation was not linearized before it returned. Backtrack.
      if (!backtrack()) return { status: "not-linearizable" };
    }
  }
}

function buildList(ops: readonly Operation[]): Node {
  const events: { time: number; node: Node }[] = [];
  ops.forEach((op, i) => {
    const call: Node = { op: i, isCall: true, match: undefined, prev: undefined, next: undefined };
    events.push({ time: op.call, node: call });
    if (Number.isFinite(op.ret)) {
      const ret: Node = { op: i, isCall: false, match: undefined, prev: undefined, next: undefined };
      call.match = ret;
      events.push({ time: op.ret, node: ret });
    }
  });
  // At equal times calls come first: touching operations count as concurrent (the permissive reading).
  events.sort((a, b) => a.time - b.time || (a.node.isCall === b.node.isCall ? 0 : a.node.isCall ? -1 : 1));
  const head: Node = { op: -1, isCall: false, match: undefined, prev: undefined, next: undefined };
  let last = head;
  for (const e of events) {
    e.node.prev = last;
    last.next = e.node;
    last = e.node;
  }
  return head;
}

function lift(call: Node): void {
  call.prev!.next = call.next;
  if (call.next) call.next.prev = call.prev;
  const ret = call.match;
  if (ret) {
    ret.prev!.next = ret.next;
    if (ret.next) ret.next.prev = ret.prev;
  }
}

function unlift(call: Node): void {
  const ret = call.match;
  if (ret) {
    ret.prev!.next = ret;
    if (ret.next) ret.next.prev = ret;
  }
  call.prev!.next = call;
  if (call.next) call.next.prev = call;
}

/**
 * The set of linearized operations as a bitset with an exact, compact key. The search linearizes roughly in
 * time order, so the set is a run of full words, a few mixed words, then zeros: the key is the index of the
 * first non-full word and the words up to the last non-zero one. Both bounds are kept incrementally, so a
 * key costs O(concurrency window), not O(history length).
 */
class LinearizedSet {
  private readonly words: Uint32Array;
  private lo = 0; // first word that is not full
  private hi = -1; // last word that is not zero

  constructor(size: number) {
    this.words = new Uint32Array(Math.ceil(size / 32) + 1);
  }

  add(i: number): void {
    const w = i >>> 5;
    this.words[w] = this.words[w]! | (1 << (i & 31));
    if (w > this.hi) this.hi = w;
    while (this.lo < this.words.length && this.words[this.lo] === 0xffffffff) this.lo++;
  }

  remove(i: number): void {
    const w = i >>> 5;
    this.words[w] = this.words[w]! & ~(1 << (i & 31));
    if (w < this.lo) this.lo = w;
    while (this.hi >= 0 && this.words[this.hi] === 0) this.hi--;
  }

  key(): string {
    let s = `${this.lo}:`;
    for (let i = this.lo; i <= this.hi; i++) s += `${this.words[i]!.toString(36)},`;
    return s;
  }
}
