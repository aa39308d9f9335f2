// `meridian load` flags → a checked LoadFlags, or a LoadFlagError naming the bad flag.
import { parseArgs } from "node:util";
import { LoadFlagError } from "./errors.js";
import { DEFAULT_MIX, type Mix, parseMix } from "./mix.js";

/** Longest run: well inside what Node's timers hold (2^31 − 1 ms ≈ 24.8 days), drain included. */
export const MAX_RUN_MS = 20 * 86_400_000;

/** Whether a run's operations (rate × duration) can be counted exactly. */
export const countable = (ratePerSecond: number, durationMs: number): boolean =>
  Number.isSafeInteger(Math.round((ratePerSecond * durationMs) / 1000));

export const LOAD_USAGE =
  "usage: meridian load [--rate OPS_PER_S] [--duration S] [--mix class:op=weight,...] [--keys N] [--counters N] [--hot N]\n" +
  "                     [--ramp S] [--max-in-flight N] [--shed-after-ms MS] [--timeout-ms MS] [--nodes region=url,...]\n" +
  "                     [--transport http|direct] [--symbols N] [--ticks TICKS_PER_S]";

export interface LoadFlags {
  help: boolean;
  rate: number;
  durationMs: number;
  /** The rate climbs from 0 over this many ms at the start (0: the full rate at once). */
  rampMs: number;
  mix: Mix;
  keys: number;
  counters: number;
  hot: number;
  maxInFlight: number;
  /** Shed an operation still unsent this long after its due time; undefined: never (pure open loop). */
  shedAfterMs: number | undefined;
  timeoutMs: number;
  /** Region → node URL of a cluster running elsewhere; undefined: start one in this process. */
  nodes: Record<string, string> | undefined;
  transport: "http" | "direct";
  /** Market data of the in-process cluster (0 ticks/s: no producer). */
  symbols: number;
  ticksPerSecond: number;
}

const OPTIONS = {
  rate: { type: "string" },
  duration: { type: "string" },
  ramp: { type: "string" },
  mix: { type: "string" },
  keys: { type: "string" },
  counters: { type: "string" },
  hot: { type: "string" },
  "max-in-flight": { type: "string" },
  "shed-after-ms": { type: "string" },
  "timeout-ms": { type: "string" },
  nodes: { type: "string" },
  transport: { type: "string" },
  symbols: { type: "string" },
  ticks: { type: "string" },
  help: { type: "boolean" },
} as const;

export function parseLoadFlags(args: readonly string[]): LoadFlags {
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({ args: [...args], options: OPTIONS, strict: true, allowPositionals: false }));
  } catch (err) {
    const m = /'(--?[\w-]+)/.exec((err as Error).message);
    throw new LoadFlagError(m?.[1] ?? "flags", (err as Error).message);
  }
  const str = (k: string) => values[k] as string | undefined;
  const nodes = str("nodes") === undefined ? undefined : parseNodes(str("nodes")!);
  const transport = str("transport") ?? "http";
  if (transport !== "http" && transport !== "direct")
    throw new LoadFlagError("--transport", `takes http or direct, not "${transport}"`);
  if (transport === "direct" && nodes)
    throw new LoadFlagError("--transport", "direct needs the in-process cluster; drop --nodes");
  const counters = integer("--counters", str("counters"), 64, 1);
  const hot = integer("--hot", str("hot"), 4, 0);
  if (hot > counters) throw new LoadFlagError("--hot", `${hot} hot counters but only ${counters} counters`);
  const durationMs = positive("--duration", str("duration"), 10) * 1000;
  if (durationMs > MAX_RUN_MS) throw new LoadFlagError("--duration", "must be at most 20 days");
  const rate = positive("--rate", str("rate"), 2000);
  if (!countable(rate, durationMs))
    throw new LoadFlagError("--rate", "× --duration makes more operations than can be counted");
  const rampSeconds = number("--ramp", str("ramp"), 0, 0);
  if (rampSeconds * 1000 > durationMs) throw new LoadFlagError("--ramp", "must not exceed --duration");
  return {
    help: values.help === true,
    rate,
    durationMs,
    rampMs: rampSeconds * 1000,
    mix: parseMix(str("mix") ?? DEFAULT_MIX),
    keys: integer("--keys", str("keys"), 10_000, 1),
    counters,
    hot,
    maxInFlight: integer("--max-in-flight", str("max-in-flight"), 256, 1),
    shedAfterMs:
      str("shed-after-ms") === undefined ? undefined : positive("--shed-after-ms", str("shed-after-ms"), 0),
    timeoutMs: positive("--timeout-ms", str("timeout-ms"), 5000),
    nodes,
    transport,
    symbols: integer("--symbols", str("symbols"), 10_000, 1),
    ticksPerSecond: number("--ticks", str("ticks"), 0, 0),
  };
}

function number(flag: string, text: string | undefined, fallback: number, min: number): number {
  if (text === undefined) return fallback;
  const v = Number(text);
  if (text.trim() === "" || !Number.isFinite(v) || v < min)
    throw new LoadFlagError(flag, `"${text}" is not a number ≥ ${min}`);
  return v;
}

function positive(flag: string, text: string | undefined, fallback: number): number {
  const v = number(flag, text, fallback, 0);
  if (v <= 0) throw new LoadFlagError(flag, `"${text}" is not a positive number`);
  return v;
}

function integer(flag: string, text: string | undefined, fallback: number, min: number): number {
  const v = number(flag, text, fallback, min);
  if (!Number.isInteger(v)) throw new LoadFlagError(flag, `"${text}" is not a whole number`);
  return v;
}

function parseNodes(text: string): Record<string, string> {
  const nodes: Record<string, string> = {};
  for (const part of text.split(",").filter((p) => p.trim() !== "")) {
    const eq = part.indexOf("=");
    const region = part.slice(0, eq).trim();
    const url = part.slice(eq + 1).trim();
    if (eq <= 0 || !/^https?:\/\/[^/]+/.test(url))
      throw new LoadFlagError("--nodes", `"${part}" is not region=http://host:port`);
    nodes[region] = url.replace(/\/+$/, "");
  }
  if (Object.keys(nodes).length === 0) throw new LoadFlagError("--nodes", "names no node");
  return nodes;
}
