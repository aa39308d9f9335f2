// Writes one coalesced batch (one folded delta per key) to a region's Redis under one writer incarnation.
// Integer counter deltas go to the Lua merge, all of them in ONE pipelined round trip; LWW values go to
// the LWW set script (lww-set.ts), one call for many keys and no snapshot read; the other writes (MV
// values, OR-set ops, counter targets, states a script hands back) go through the CAS path, all keys
// concurrently, so they too share round trips. A key whose write fails (bad input for the
// stored type, a Redis error on its command) fails alone; keys that met a lost incarnation are handed
// back, with only the part not yet written, to be redone under the new one.
import { type CrdtType, emptyCrdt, type HlcTimestamp } from "@meridian/core";
import type { Redis } from "ioredis";
import { COUNTER_OP, counterArgs, counterReply } from "./counter-merge.js";
import type { WriteContext } from "./crdt-write.js";
import {
  type CasStep,
  casUpdateMany,
  guard,
  type HistoryOptions,
  IncarnationChangedError,
  type IncarnationGuard,
  type Snapshot,
  writeKeys,
} from "./entry-store.js";
import { lwwSetMany } from "./lww-set.js";
import type { StoredEntry } from "./types.js";
import { applyFolded, counterParts, type FoldedWrite } from "./write-fold.js";

export interface BatchItem {
  key: string;
  type: CrdtType;
  fold: FoldedWrite;
}

export interface Writer {
  node: string;
  guard: IncarnationGuard;
}

export interface BatchDeps {
  region: string;
  history: HistoryOptions;
  now: () => number;
  /** A fresh HLC timestamp for a script's write (the script moves it past the stored one). */
  counterTs: () => HlcTimestamp;
  /** Clock, timestamp and tag of a new local state on top of `snap` (the cache's writeContext). */
  context: (snap: Snapshot, node: string) => WriteContext;
}

export interface BatchOutcome {
  /** Per key: the entry the batch left, or the error that failed the key. */
  results: Map<string, { value: StoredEntry } | { error: unknown }>;
  /** Keys (with what is left of their write) that must be redone under a new incarnation. */
  redo: BatchItem[];
}

export async function writeBatch(
  redis: Redis,
  prefix: string,
  writer: Writer,
  items: readonly BatchItem[],
  deps: BatchDeps,
): Promise<BatchOutcome> {
  const out: BatchOutcome = { results: new Map(), redo: [] };
  const counters = items.filter((i) => i.fold.kind === "counter");
  const lww = items.filter(isLwwSet);
  const cas = items.filter((i) => i.fold.kind === "apply" && !isLwwSet(i));
  const [fromCounters, fromLww] = await Promise.all([
    writeCounters(redis, prefix, writer, counters, deps, out),
    writeLwwSets(redis, prefix, writer, lww, deps, out),
    writeWithCas(redis, prefix, writer, cas, deps, out),
  ]);
  // States the scripts cannot reproduce byte for byte: the rest of the write goes the CAS way.
  await writeWithCas(redis, prefix, writer, [...fromCounters, ...fromLww], deps, out);
  return out;
}

/** One value on an LWW key: what the LWW set script writes. */
function isLwwSet(item: BatchItem): boolean {
  return item.type === "lww" && item.fold.kind === "apply" && item.fold.values.length === 1;
}

/** LWW values in one script call per 256 keys; returns the items the script handed back to the CAS path. */
export async function writeLwwSets(
  redis: Redis,
  prefix: string,
  writer: Writer,
  items: readonly BatchItem[],
  deps: BatchDeps,
  out: BatchOutcome,
): Promise<BatchItem[]> {
  if (items.length === 0) return [];
  const value = (item: BatchItem) => (item.fold as Extract<FoldedWrite, { kind: "apply" }>).values[0];
  let outcomes: Awaited<ReturnType<typeof lwwSetMany>>;
  try {
    outcomes = await lwwSetMany(
      redis,
      prefix,
      items.map((item) => ({ key: item.key, value: value(item), ts: deps.counterTs() })),
      {
        node: writer.node,
        region: deps.region,
        history: deps.history,
        nowMs: deps.now(),
        incarnation: writer.guard,
      },
    );
  } catch (error) {
    for (const item of items) out.results.set(item.key, { error });
    return [];
  }
  const toCas: BatchItem[] = [];
  outcomes.forEach((o, i) => {
    const item = items[i]!;
    if ("written" in o) out.results.set(item.key, { value: o.written });
    else if ("fallback" in o) toCas.push(item);
    else if ("redo" in o) out.redo.push(item);
    else out.results.set(item.key, { error: o.error });
  });
  return toCas;
}

/** Counter deltas in one pipeline; returns the items the script handed back to the CAS path. */
async function writeCounters(
  redis: Redis,
  prefix: string,
  writer: Writer,
  items: readonly BatchItem[],
  deps: BatchDeps,
  out: BatchOutcome,
): Promise<BatchItem[]> {
  if (items.length === 0) return [];
  COUNTER_OP.defineOn(redis);
  const pipeline = redis.pipeline();
  const calls: { item: BatchItem; side: "increment" | "decrement"; by: number }[] = [];
  for (const item of items) {
    for (const part of counterParts(item.fold as Extract<FoldedWrite, { kind: "counter" }>)) {
      const op = { node: writer.node, region: deps.region, ...part, ts: deps.counterTs() };
      COUNTER_OP.queue(
        pipeline,
        writeKeys(prefix, item.key, writer.guard),
        counterArgs(item.key, op, deps.history, writer.guard),
      );
      calls.push({ item, ...part });
    }
  }
  const replies = await guard("batched counter write", async () => {
    const res = await pipeline.exec();
    if (!res) throw new Error("pipeline aborted");
    return res;
  });
  const leftover = new Map<string, { item: BatchItem; values: unknown[]; redo: boolean }>();
  const left = (item: BatchItem) => {
    const l = leftover.get(item.key) ?? { item, values: [], redo: false };
    leftover.set(item.key, l);
    return l;
  };
  calls.forEach((call, i) => {
    const [err, reply] = replies[i]!;
    if (out.results.has(call.item.key) && "error" in out.results.get(call.item.key)!) return;
    if (err) {
      out.results.set(call.item.key, { error: err });
      return;
    }
    try {
      const entry = counterReply(reply as string | number);
      if (entry) out.results.set(call.item.key, { value: entry });
      else left(call.item).values.push({ op: call.side, by: call.by });
    } catch (e) {
      if (!(e instanceof IncarnationChangedError)) {
        out.results.set(call.item.key, { error: e }); // an unreadable reply fails its key only
        return;
      }
      const l = left(call.item);
      l.redo = true;
      l.values.push({ op: call.side, by: call.by });
    }
  });
  const toCas: BatchItem[] = [];
  for (const { item, values, redo } of leftover.values()) {
    const rest: BatchItem = { key: item.key, type: item.type, fold: { kind: "apply", values } };
    if (redo) out.redo.push(rest);
    else toCas.push(rest);
  }
  return toCas;
}

/** Read-merge-CAS of every key: the reads in one round trip, the CAS scripts in the next. */
export async function writeWithCas(
  redis: Redis,
  prefix: string,
  writer: Writer,
  items: readonly BatchItem[],
  deps: BatchDeps,
  out: BatchOutcome,
): Promise<void> {
  if (items.length === 0) return;
  const byKey = new Map(items.map((item) => [item.key, item]));
  const compute = (key: string, snap: Snapshot): CasStep => {
    const item = byKey.get(key)!;
    const values = (item.fold as Extract<FoldedWrite, { kind: "apply" }>).values;
    const ctx = deps.context(snap, writer.node);
    const crdt = applyFolded(item.type, snap.entry?.crdt ?? emptyCrdt(item.type), values, ctx);
    const entry: StoredEntry = {
      crdt,
      clock: ctx.clock,
      hlc: ctx.ts,
      region: deps.region,
      updatedAtMs: deps.now(),
    };
    return { entry, historyCause: "local-write" };
  };
  const done = await casUpdateMany(
    redis,
    prefix,
    [...byKey.keys()],
    writer.node,
    compute,
    deps.history,
    writer.guard,
  );
  for (const [key, res] of done) {
    if ("written" in res) out.results.set(key, { value: res.written });
    else if (res.error instanceof IncarnationChangedError) out.redo.push(byKey.get(key)!);
    else out.results.set(key, { error: res.error });
  }
}
