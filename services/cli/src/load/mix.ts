// The operation mix of a load run: weighted (data class, operation) pairs, parsed from
// `class:op=weight,...` (e.g. `important:set=60,important:incr=30,cacheable:get=10`).
import { LoadFlagError } from "./errors.js";

export const DATA_CLASSES = ["critical", "important", "cacheable"] as const;
export const OP_KINDS = ["set", "incr", "get", "transfer"] as const;
export type DataClass = (typeof DATA_CLASSES)[number];
export type OpKind = (typeof OP_KINDS)[number];

export interface MixEntry {
  dataClass: DataClass;
  kind: OpKind;
  weight: number;
}

/** Entries with positive weights, and their cumulative weights for picking. */
export interface Mix {
  readonly entries: readonly MixEntry[];
  readonly total: number;
}

/** Mostly eventual writes (LWW sets and counter increments), some reads, a little cacheable and critical. */
export const DEFAULT_MIX =
  "important:set=45,important:incr=25,important:get=20,cacheable:set=4,cacheable:get=4,critical:set=1,critical:get=1";

export function parseMix(spec: string): Mix {
  const entries: MixEntry[] = [];
  for (const part of spec.split(",").map((p) => p.trim())) {
    if (part === "") continue;
    const m = /^(?:([a-z]+):)?([a-z]+)=([0-9]*\.?[0-9]+)$/.exec(part);
    if (!m) throw new LoadFlagError("--mix", `"${part}" is not class:op=weight (e.g. important:incr=30)`);
    const [, cls = "important", kind, weightText] = m as unknown as [
      string,
      string | undefined,
      string,
      string,
    ];
    if (!(DATA_CLASSES as readonly string[]).includes(cls))
      throw new LoadFlagError("--mix", `unknown data class "${cls}" (one of ${DATA_CLASSES.join(", ")})`);
    if (!(OP_KINDS as readonly string[]).includes(kind))
      throw new LoadFlagError("--mix", `unknown operation "${kind}" (one of ${OP_KINDS.join(", ")})`);
    if (kind === "incr" && cls !== "important")
      throw new LoadFlagError("--mix", `incr needs CRDT counters: important only, not ${cls}`);
    if (kind === "transfer" && cls !== "critical")
      throw new LoadFlagError("--mix", `transfer moves ledger balances: critical only, not ${cls}`);
    const weight = Number(weightText);
    if (entries.some((e) => e.dataClass === cls && e.kind === kind))
      throw new LoadFlagError("--mix", `${cls}:${kind} is given twice`);
    if (weight > 0) entries.push({ dataClass: cls as DataClass, kind: kind as OpKind, weight });
  }
  const total = entries.reduce((s, e) => s + e.weight, 0);
  if (total <= 0) throw new LoadFlagError("--mix", "needs at least one operation with a positive weight");
  return { entries, total };
}

/** The entry a uniform draw u ∈ [0, 1) selects, each with probability weight / total. */
export function pickEntry(mix: Mix, u: number): MixEntry {
  let left = u * mix.total;
  for (const e of mix.entries) {
    left -= e.weight;
    if (left < 0) return e;
  }
  return mix.entries[mix.entries.length - 1]!;
}

/** Share of the mix that writes (set or incr), 0..1. */
export function writeShare(mix: Mix): number {
  return mix.entries.filter((e) => e.kind !== "get").reduce((s, e) => s + e.weight, 0) / mix.total;
}
