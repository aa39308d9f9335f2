// In-process coherence workloads for the bench: the typed-array engine, the object controllers (the
// form the model checker runs), the async CacheCoherenceManager, and a bare ring push/pop loop as the
// single-thread limit. Each returns messages handled, wall and CPU seconds, and per-message times.
import {
  CACHE_TABLE,
  CacheCoherenceManager,
  CacheController,
  type CacheLine,
  CoherenceEngine,
  type CoherenceMessage,
  DIRECTORY_TABLE,
  DirectoryController,
  InMemoryStore,
  MessageRing,
  newDirLine,
} from "@meridian/coherence";
import { mulberry32 } from "../lib/prng.js";

export interface RunResult {
  messages: number;
  wallS: number;
  cpuS: number;
  /** Per-message handling time (ns): each sample is one timed batch divided by its message count. */
  perMessageNs: number[];
}

const NODES = 8;

/** 70% loads, 30% stores, from 8 nodes, keys skewed (cube of a uniform) so hot lines bounce. */
function workload(ops: number, lines: number, seed = 7) {
  const r = mulberry32(seed);
  const node = new Uint8Array(ops);
  const line = new Int32Array(ops);
  const store = new Uint8Array(ops);
  for (let i = 0; i < ops; i++) {
    node[i] = Math.floor(r() * NODES);
    line[i] = Math.floor(r() ** 3 * lines);
    store[i] = r() < 0.3 ? 1 : 0;
  }
  return { node, line, store };
}

function timed<T>(fn: () => T): { value: T; wallS: number; cpuS: number } {
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  const value = fn();
  const wallS = (performance.now() - t0) / 1000;
  const cu = process.cpuUsage(c0);
  return { value, wallS, cpuS: (cu.user + cu.system) / 1e6 };
}

/** The engine: BATCH operations are issued, then the network drains; each drain is one timed batch. */
export function runEngine(ops: number, batch = 64, lines = 4096): RunResult {
  const e = new CoherenceEngine({ nodes: NODES, lines });
  const w = workload(ops, lines);
  const perMessageNs: number[] = [];
  const t = timed(() => {
    for (let i = 0; i < ops; i += batch) {
      const t0 = performance.now();
      const before = e.messagesHandled;
      const end = Math.min(ops, i + batch);
      for (let j = i; j < end; j++) {
        if (w.store[j]) e.store(w.node[j]!, w.line[j]!, j);
        else e.load(w.node[j]!, w.line[j]!);
      }
      e.drain();
      const n = e.messagesHandled - before;
      if (n > 0) perMessageNs.push(((performance.now() - t0) * 1e6) / n);
    }
    return e.messagesHandled;
  });
  if (e.swmrViolation() !== -1) throw new Error("engine bench: SWMR violated");
  return { messages: t.value, wallS: t.wallS, cpuS: t.cpuS, perMessageNs };
}

/** The engine on the controllers' workload (two caches, one line: GetS/Data/Unblock + GetM/Inv/InvAck). */
export function runEngineCycle(rounds: number): RunResult {
  const e = new CoherenceEngine({ nodes: 2, lines: 1 });
  const perMessageNs: number[] = [];
  const t = timed(() => {
    for (let i = 0; i < rounds; i++) {
      const t0 = performance.now();
      const before = e.messagesHandled;
      const a = i & 1;
      e.load(a, 0);
      e.drain();
      e.load(1 - a, 0);
      e.drain();
      e.store(a, 0, i);
      e.drain();
      perMessageNs.push(((performance.now() - t0) * 1e6) / (e.messagesHandled - before));
    }
    return e.messagesHandled;
  });
  return { messages: t.value, wallS: t.wallS, cpuS: t.cpuS, perMessageNs };
}

/** The single-thread limit: push and pop the same number of messages through a ring, no protocol. */
export function runRingOnly(messages: number, batch = 256): RunResult {
  const q = new MessageRing(4096);
  const perMessageNs: number[] = [];
  let sink = 0;
  const t = timed(() => {
    for (let i = 0; i < messages; i += batch) {
      const t0 = performance.now();
      for (let j = 0; j < batch; j++) q.push(j & 15, j, j & 7, -1, j, 0);
      while (q.size > 0) {
        sink += q.type[q.peek()]!;
        q.pop();
      }
      perMessageNs.push(((performance.now() - t0) * 1e6) / batch);
    }
    return sink;
  });
  return { messages: Math.ceil(messages / batch) * batch, wallS: t.wallS, cpuS: t.cpuS, perMessageNs };
}

/** The object controllers (what the model checker runs): GetS/Data/Unblock + GetM/Inv/InvAck cycles. */
export function runControllers(rounds: number): RunResult {
  const cc = new CacheController(CACHE_TABLE);
  const dc = new DirectoryController(DIRECTORY_TABLE);
  const q: CoherenceMessage<number>[] = [];
  const lines: CacheLine<number>[] = [
    { state: "I", value: undefined },
    { state: "I", value: undefined },
  ];
  const d = newDirLine<number>(0);
  const fx = { send: (m: CoherenceMessage<number>) => q.push(m), readHit: () => {}, write: () => 1 };
  const perMessageNs: number[] = [];
  let handled = 0;
  const drain = () => {
    for (let m = q.shift(); m; m = q.shift()) {
      handled++;
      if (m.to === -1) dc.step(d, m, fx);
      else cc.step(m.to, "L", lines[m.to]!, m, fx);
    }
  };
  const t = timed(() => {
    for (let i = 0; i < rounds; i++) {
      const t0 = performance.now();
      const before = handled;
      const a = i & 1;
      cc.step(a, "L", lines[a]!, "Load", fx);
      drain();
      cc.step(1 - a, "L", lines[1 - a]!, "Load", fx);
      drain();
      cc.step(a, "L", lines[a]!, "Store", fx);
      drain();
      perMessageNs.push(((performance.now() - t0) * 1e6) / (handled - before));
    }
    return handled;
  });
  return { messages: t.value, wallS: t.wallS, cpuS: t.cpuS, perMessageNs };
}

/** The async manager (Promise per operation, object messages, per-node queues), same workload shape. */
export async function runManager(ops: number): Promise<RunResult> {
  const perMessageNs: number[] = [];
  const m = new CacheCoherenceManager<number>(
    {
      l1: { caches: NODES, capacity: 64 },
      l3: new InMemoryStore<number>(),
      l2: { writeBuffer: { maxEntries: 4096, maxAgeMs: 1000 } },
    },
    { onMessageHandled: (_t, ns) => perMessageNs.push(ns) },
  );
  const keys = Array.from({ length: 512 }, (_, i) => `k${i}`);
  for (const k of keys) await m.readRequest(0, k); // L2 warm: the loop measures coherence, not L3 loads
  perMessageNs.length = 0;
  const w = workload(ops, keys.length, 11);
  const m0 = m.stats.messagesHandled;
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  for (let i = 0; i < ops; i++) {
    const key = keys[w.line[i]!]!;
    if (w.store[i]) await m.writeRequest(w.node[i]!, key, i, i % 10 === 0 ? "critical" : "important");
    else await m.readRequest(w.node[i]!, key);
  }
  const wallS = (performance.now() - t0) / 1000;
  const cu = process.cpuUsage(c0);
  const messages = m.stats.messagesHandled - m0;
  await m.shutdown();
  return { messages, wallS, cpuS: (cu.user + cu.system) / 1e6, perMessageNs };
}
