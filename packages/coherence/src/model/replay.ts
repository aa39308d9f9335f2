// Re-runs an execution the model checker explored (a list of TraceSteps) through the same table
// controllers and reports every directory step, so another implementation of the directory (the
// near cache's Lua scripts on a real Redis) can be driven through the same interleaving and compared
// with the tables step by step.
import { CACHE_TABLE, type CacheTable } from "../protocol/cache-table.js";
import { DIRECTORY_TABLE, type DirectoryTable } from "../protocol/directory-table.js";
import {
  CacheController,
  type CacheLine,
  DirectoryController,
  type DirLine,
  newDirLine,
} from "../protocol/engine.js";
import { type CacheState, type CoherenceMessage, DIRECTORY, type DirState } from "../protocol/messages.js";
import type { TraceStep } from "./model-checker.js";

export interface DirSnapshot {
  state: DirState;
  owner: number;
  requester: number;
  sharers: number[];
  home: number;
}

/** One message the table directory consumed, with the line before and after and what it sent. */
export interface DirectoryStep {
  index: number;
  msg: CoherenceMessage<number>;
  line: number;
  /** Index of the directory-table row that handled it. */
  row: number;
  before: DirSnapshot;
  after: DirSnapshot;
  sent: CoherenceMessage<number>[];
  /** The sender's cache state when the message is delivered. */
  senderState: CacheState;
}

export interface ReplayConfig {
  caches: number;
  lines: number;
  cacheTable?: CacheTable;
  directoryTable?: DirectoryTable;
}

const snapshot = (d: DirLine<number>): DirSnapshot => ({
  state: d.state,
  owner: d.owner,
  requester: d.requester,
  sharers: [...d.sharers].sort((a, b) => a - b),
  home: d.home ?? 0,
});

const sameMessage = (a: CoherenceMessage<number>, b: CoherenceMessage<number>) =>
  a.type === b.type &&
  a.line === b.line &&
  a.from === b.from &&
  a.to === b.to &&
  a.value === b.value &&
  !!a.dirty === !!b.dirty &&
  !!a.kept === !!b.kept;

/** Replays `trace` and awaits `onDirectoryStep` after each directory step, in order. */
export async function replayTrace(
  cfg: ReplayConfig,
  trace: readonly TraceStep[],
  onDirectoryStep: (step: DirectoryStep) => Promise<void>,
): Promise<void> {
  const cc = new CacheController(cfg.cacheTable ?? CACHE_TABLE);
  const dc = new DirectoryController(cfg.directoryTable ?? DIRECTORY_TABLE);
  const caches: CacheLine<number>[][] = Array.from({ length: cfg.caches }, () =>
    Array.from({ length: cfg.lines }, () => ({ state: "I" as CacheState, value: undefined })),
  );
  const dirs = Array.from({ length: cfg.lines }, () => newDirLine<number>(0));
  const net: CoherenceMessage<number>[] = [];
  let writes = 0;
  const fx = (sent: CoherenceMessage<number>[]) => ({
    send: (m: CoherenceMessage<number>) => {
      net.push(m);
      sent.push(m);
    },
    readHit: () => {},
    write: () => ++writes,
  });

  for (let i = 0; i < trace.length; i++) {
    const step = trace[i]!;
    if (step.kind === "op") {
      cc.step(step.cache, `L${step.line}`, caches[step.cache]![step.line]!, step.event, fx([]));
      continue;
    }
    const at = net.findIndex((m) => sameMessage(m, step.msg));
    if (at < 0) throw new Error(`replay: step ${i} delivers a message that is not in flight`);
    const m = net.splice(at, 1)[0]!;
    const l = Number(m.line.slice(1));
    if (m.to !== DIRECTORY) {
      cc.step(m.to, m.line, caches[m.to]![l]!, m, fx([]));
      continue;
    }
    const before = snapshot(dirs[l]!);
    const row = dc.match(dirs[l]!, m);
    const sent: CoherenceMessage<number>[] = [];
    if (dc.step(dirs[l]!, m, fx(sent)) === "stalled") throw new Error(`replay: step ${i} stalls`);
    await onDirectoryStep({
      index: i,
      msg: m,
      line: l,
      row,
      before,
      after: snapshot(dirs[l]!),
      sent,
      senderState: caches[m.from]![l]!.state,
    });
  }
}
