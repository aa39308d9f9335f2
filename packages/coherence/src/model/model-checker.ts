// Exhaustive breadth-first model check of the protocol tables. It explores every interleaving of
// processor operations and message deliveries for a small configuration. The network is a multiset:
// any in-flight message may be delivered next (arbitrary delay and reordering), except that the
// directory stalls requests for a busy line, as its table says.
import { CACHE_TABLE, type CacheTable } from "../protocol/cache-table.js";
import { DIRECTORY_TABLE, type DirectoryTable } from "../protocol/directory-table.js";
import {
  CacheController,
  type CacheLine,
  DirectoryController,
  type DirLine,
  newDirLine,
  ProtocolError,
} from "../protocol/engine.js";
import {
  type CoherenceMessage,
  DIRECTORY,
  type ProcessorEvent,
  READABLE_STATES,
  WRITABLE_STATES,
} from "../protocol/messages.js";

export interface ModelConfig {
  caches: number;
  lines: number;
  /** Total stores allowed in one execution (values written are 1..maxWrites). */
  maxWrites: number;
  /** Lines a cache may hold (non-I) at once; a miss beyond it must first evict. Default: all lines. */
  capacity?: number;
  /** A cache issues a new processor operation only when none of its lines has a transaction in flight. */
  blockingProcessor?: boolean;
  cacheTable?: CacheTable;
  directoryTable?: DirectoryTable;
  /** Stop after this many states (a safety net; the result says it was truncated). */
  maxStates?: number;
  /** Also return the paths to this many explored states, spread evenly over the BFS order (deepest last). */
  sampleTraces?: number;
}

/** One step of an execution: a processor operation, or the delivery of one in-flight message. */
export type TraceStep =
  | { kind: "op"; cache: number; line: number; event: ProcessorEvent }
  | {
      kind: "deliver";
      msg: CoherenceMessage<number> /** directory-table row, -1 for a cache */;
      dirRow: number;
    };

export type ViolationKind = "SWMR" | "data-value" | "deadlock" | "protocol-error";

export interface Violation {
  kind: ViolationKind;
  detail: string;
  /** The shortest sequence of steps from the initial state that reaches the violation. */
  trace: string[];
}

export interface ModelResult {
  statesExplored: number;
  transitions: number;
  truncated: boolean;
  violation?: Violation;
  /** With `sampleTraces`: executions from the initial state, as steps a replay can re-run. */
  traces?: TraceStep[][];
  /** With `sampleTraces`: the directory-table rows some explored transition took. */
  dirRowsTaken?: number[];
}

interface ModelState {
  caches: CacheLine<number>[][]; // [cache][line]
  dirs: DirLine<number>[]; // [line]
  net: CoherenceMessage<number>[];
  ghost: number[]; // last value written per line (the data-value invariant's reference)
  writes: number;
}

const PROCESSOR_EVENTS: ProcessorEvent[] = ["Load", "Store", "Evict"];
const STABLE_DIR = new Set(["I", "S", "EM"]);

function msgKey(m: CoherenceMessage<number>): string {
  return `${m.type}:${m.line}:${m.from}>${m.to}:${m.value ?? "-"}:${m.dirty ? 1 : 0}${m.kept ? 1 : 0}`;
}

function stateKey(s: ModelState): string {
  const caches = s.caches.map((ls) => ls.map((l) => `${l.state}=${l.value ?? "-"}`).join(",")).join("|");
  const dirs = s.dirs
    .map((d) => {
      const busy = !STABLE_DIR.has(d.state);
      const sharers = [...d.sharers].sort().join(".");
      return `${d.state}/${d.owner}/${sharers}/${busy ? d.acks : 0}/${busy ? d.requester : -1}/${d.home}`;
    })
    .join("|");
  const net = s.net.map(msgKey).sort().join(";");
  return `${caches}#${dirs}#${net}#${s.ghost.join(",")}#${s.writes}`;
}

function clone(s: ModelState): ModelState {
  return {
    caches: s.caches.map((ls) => ls.map((l) => ({ ...l }))),
    dirs: s.dirs.map((d) => ({ ...d, sharers: new Set(d.sharers) })),
    net: s.net.slice(),
    ghost: s.ghost.slice(),
    writes: s.writes,
  };
}

const lineName = (l: number) => `L${l}`;
const lineIndex = (name: string) => Number(name.slice(1));

/** Check SWMR and data-value on one state; returns a description of the first problem found. */
function checkInvariants(
  s: ModelState,
  cfg: ModelConfig,
): { kind: ViolationKind; detail: string } | undefined {
  for (let l = 0; l < cfg.lines; l++) {
    let writers = 0;
    let readers = 0;
    for (let c = 0; c < cfg.caches; c++) {
      const st = s.caches[c]![l]!.state;
      if (WRITABLE_STATES.has(st)) writers++;
      else if (READABLE_STATES.has(st)) readers++;
    }
    if (writers > 1 || (writers === 1 && readers > 0)) {
      return { kind: "SWMR", detail: `L${l}: ${writers} writer(s) and ${readers} reader(s) at once` };
    }
    for (let c = 0; c < cfg.caches; c++) {
      const line = s.caches[c]![l]!;
      if (READABLE_STATES.has(line.state) && line.value !== s.ghost[l]) {
        return {
          kind: "data-value",
          detail: `cache ${c} holds ${line.value} for L${l} in ${line.state}, last write was ${s.ghost[l]}`,
        };
      }
    }
  }
  return undefined;
}

function hasPendingWork(s: ModelState): boolean {
  if (s.net.length > 0) return true;
  if (s.dirs.some((d) => !STABLE_DIR.has(d.state))) return true;
  return s.caches.some((ls) => ls.some((l) => l.state.includes("_")));
}

class StepViolation extends Error {
  constructor(
    readonly kind: ViolationKind,
    detail: string,
  ) {
    super(detail);
  }
}

/** Explore every reachable state breadth-first; stop at the first violation. */
export function modelCheck(cfg: ModelConfig): ModelResult {
  const cacheCtl = new CacheController(cfg.cacheTable ?? CACHE_TABLE);
  const dirCtl = new DirectoryController(cfg.directoryTable ?? DIRECTORY_TABLE);
  const maxStates = cfg.maxStates ?? 5_000_000;

  const init: ModelState = {
    caches: Array.from({ length: cfg.caches }, () =>
      Array.from({ length: cfg.lines }, () => ({ state: "I" as const, value: undefined })),
    ),
    dirs: Array.from({ length: cfg.lines }, () => newDirLine<number>(0)),
    net: [],
    ghost: Array.from({ length: cfg.lines }, () => 0),
    writes: 0,
  };

  const ids = new Map<string, number>();
  const parent: number[] = [];
  const label: string[] = [];
  const steps: TraceStep[] = []; // structured labels, kept only when traces are sampled
  const keepSteps = (cfg.sampleTraces ?? 0) > 0;
  // directory row -> the shallowest transition that takes it (from state, step)
  const firstByRow = new Map<number, [number, TraceStep]>();
  const queue: ModelState[] = [init];
  const queueIds: number[] = [0];
  ids.set(stateKey(init), 0);
  parent.push(-1);
  label.push("init");
  let transitions = 0;

  const traceTo = (id: number, last?: string): string[] => {
    const steps: string[] = last ? [last] : [];
    for (let i = id; i > 0; i = parent[i]!) steps.push(label[i]!);
    return steps.reverse();
  };

  for (let head = 0; head < queue.length; head++) {
    const s = queue[head]!;
    const sid = queueIds[head]!;
    queue[head] = undefined as unknown as ModelState; // let visited states be collected
    const successors: [ModelState, string, TraceStep | undefined][] = [];
    let deliverable = 0;

    try {
      // Processor operations.
      for (let c = 0; c < cfg.caches; c++) {
        const mine = s.caches[c]!;
        if (cfg.blockingProcessor && mine.some((l) => l.state.includes("_"))) continue;
        const held = mine.filter((l) => l.state !== "I").length;
        for (let l = 0; l < cfg.lines; l++) {
          for (const ev of PROCESSOR_EVENTS) {
            if (ev === "Store" && s.writes >= cfg.maxWrites) continue;
            if (ev !== "Evict" && mine[l]!.state === "I" && held >= (cfg.capacity ?? cfg.lines)) continue;
            if (!cacheCtl.row(s.caches[c]![l]!.state, ev)) continue; // not applicable (e.g. Evict in I)
            const n = clone(s);
            const res = cacheCtl.step(c, lineName(l), n.caches[c]![l]!, ev, {
              send: (m) => n.net.push(m),
              readHit: (v) => {
                if (v !== n.ghost[l])
                  throw new StepViolation(
                    "data-value",
                    `cache ${c} read ${v} from L${l}, last write ${n.ghost[l]}`,
                  );
              },
              write: () => {
                n.writes++;
                n.ghost[l] = n.writes;
                return n.writes;
              },
            });
            if (res === "stalled") continue;
            successors.push([
              n,
              `cache ${c}: ${ev} L${l}`,
              keepSteps ? { kind: "op", cache: c, line: l, event: ev } : undefined,
            ]);
          }
        }
      }
      // Message deliveries, in any order (identical messages are delivered once).
      const seen = new Set<string>();
      for (let i = 0; i < s.net.length; i++) {
        const m = s.net[i]!;
        const k = msgKey(m);
        if (seen.has(k)) continue;
        seen.add(k);
        const n = clone(s);
        n.net.splice(i, 1);
        const l = lineIndex(m.line);
        const send = (out: CoherenceMessage<number>) => n.net.push(out);
        const dirRow = keepSteps && m.to === DIRECTORY ? dirCtl.match(n.dirs[l]!, m) : -1;
        const res =
          m.to === DIRECTORY
            ? dirCtl.step(n.dirs[l]!, m, { send })
            : cacheCtl.step(m.to, m.line, n.caches[m.to]![l]!, m, {
                send,
                readHit: (v) => {
                  if (v !== n.ghost[l])
                    throw new StepViolation(
                      "data-value",
                      `cache ${m.to} read ${v} from L${l}, last write ${n.ghost[l]}`,
                    );
                },
                write: () => {
                  n.writes++;
                  n.ghost[l] = n.writes;
                  return n.writes;
                },
              });
        if (res === "stalled") continue;
        deliverable++;
        successors.push([
          n,
          `deliver ${m.type} ${m.from === DIRECTORY ? "dir" : m.from}->${m.to === DIRECTORY ? "dir" : m.to} ${m.line}${m.value !== undefined ? ` v=${m.value}` : ""}`,
          keepSteps ? { kind: "deliver", msg: m, dirRow } : undefined,
        ]);
      }
    } catch (err) {
      if (err instanceof StepViolation) {
        return done(ids.size, transitions, { kind: err.kind, detail: err.message, trace: traceTo(sid) });
      }
      if (err instanceof ProtocolError) {
        return done(ids.size, transitions, {
          kind: "protocol-error",
          detail: err.message,
          trace: traceTo(sid),
        });
      }
      throw err;
    }

    if (deliverable === 0 && hasPendingWork(s)) {
      return done(ids.size, transitions, {
        kind: "deadlock",
        detail: `no message can be delivered; in flight: ${s.net.map(msgKey).join(", ") || "none"}`,
        trace: traceTo(sid),
      });
    }

    for (const [n, what, step] of successors) {
      transitions++;
      if (step?.kind === "deliver" && step.dirRow >= 0 && !firstByRow.has(step.dirRow))
        firstByRow.set(step.dirRow, [sid, step]);
      const key = stateKey(n);
      if (ids.has(key)) continue;
      const id = ids.size;
      ids.set(key, id);
      parent.push(sid);
      label.push(what);
      if (step) steps[id] = step;
      const bad = checkInvariants(n, cfg);
      if (bad) return done(ids.size, transitions, { ...bad, trace: traceTo(id) });
      if (ids.size >= maxStates) return { statesExplored: ids.size, transitions, truncated: true };
      queue.push(n);
      queueIds.push(id);
    }
  }
  const result: ModelResult = { statesExplored: ids.size, transitions, truncated: false };
  if (keepSteps) {
    result.traces = sampleTraces(parent, steps, firstByRow, cfg.sampleTraces!);
    result.dirRowsTaken = [...firstByRow.keys()].sort((a, b) => a - b);
  }
  return result;
}

/**
 * The shortest execution that ends with each directory row, then paths to `count` states spread
 * evenly over the BFS numbering (later ids are deeper).
 */
function sampleTraces(
  parent: number[],
  steps: TraceStep[],
  firstByRow: Map<number, [number, TraceStep]>,
  count: number,
): TraceStep[][] {
  const pathTo = (id: number) => {
    const path: TraceStep[] = [];
    for (let i = id; i > 0; i = parent[i]!) path.push(steps[i]!);
    return path.reverse();
  };
  const out = [...firstByRow.values()].map(([from, last]) => [...pathTo(from), last]);
  const total = parent.length;
  for (let k = 1; k <= count && k < total; k++) {
    out.push(pathTo(Math.floor((k * (total - 1)) / Math.min(count, total - 1))));
  }
  return out;
}

function done(states: number, transitions: number, violation: Violation): ModelResult {
  return { statesExplored: states, transitions, truncated: false, violation };
}
