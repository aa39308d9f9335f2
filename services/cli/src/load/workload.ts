// What each operation of a load run does: its region (round-robin, so every region writes), its class and
// kind (drawn from the mix) and its key. Keys carry the run's tag so runs never share state. LWW sets go
// to `px:` keys, increments to `counter:` keys (PN-counters) of which a few hot ones take half; ledger
// operations (fenced transfers, a quarter of them deposits) move money between a few accounts.
import { InvalidInputError } from "@meridian/core";
import { type DataClass, type Mix, type OpKind, pickEntry } from "./mix.js";

export interface PlannedOp {
  index: number;
  region: string;
  dataClass: DataClass;
  kind: OpKind;
  key: string;
  /** Request body of a write (undefined for a get). */
  body?: unknown;
  /** Amount of an increment (so the run can sum what was acknowledged). */
  by?: number;
  /** The ledger route of a `transfer` op (its body names the accounts). */
  ledger?: "transfer" | "deposit";
}

export interface WorkloadOptions {
  regions: readonly string[];
  mix: Mix;
  /** Run tag inside every key. */
  tag: string;
  /** Distinct LWW / cacheable keys (default 10 000). */
  keys?: number;
  /** Distinct PN-counter keys (default 64). */
  counters?: number;
  /** Of those, hot ones that take half of all increments (default 4). */
  hotCounters?: number;
  /** Distinct critical keys (default 64). */
  criticalKeys?: number;
  /** Ledger accounts transfers move money between (default 6: few, so their locks are contended). */
  ledgerAccounts?: number;
  random?: () => number;
}

export class Workload {
  readonly regions: readonly string[];
  private readonly random: () => number;
  private readonly keys: number;
  private readonly counters: number;
  private readonly hot: number;
  private readonly criticalKeys: number;

  constructor(private readonly o: WorkloadOptions) {
    if (o.regions.length === 0)
      throw new InvalidInputError("a workload needs at least one region", { field: "regions" });
    this.regions = o.regions;
    this.random = o.random ?? Math.random;
    this.keys = o.keys ?? 10_000;
    this.counters = o.counters ?? 64;
    this.hot = Math.min(o.hotCounters ?? 4, this.counters);
    this.criticalKeys = o.criticalKeys ?? 64;
  }

  /** Every counter key this run may increment. */
  counterKeys(): string[] {
    return Array.from({ length: this.counters }, (_, i) => this.counterKey(i));
  }

  plan(index: number): PlannedOp {
    const region = this.regions[index % this.regions.length]!;
    const { dataClass, kind } = pickEntry(this.o.mix, this.random());
    const base = { index, region, dataClass, kind };
    if (kind === "incr") {
      const by = 1 + Math.floor(this.random() * 3);
      return { ...base, key: this.counterKey(this.pickCounter()), body: { op: "increment", by }, by };
    }
    if (kind === "transfer") return { ...base, ...this.ledgerOp() };
    const key = this.keyFor(dataClass);
    if (kind === "get") return { ...base, key };
    return { ...base, key, body: { value: this.valueFor(dataClass, index) } };
  }

  private ledgerOp(): Pick<PlannedOp, "key" | "body" | "ledger"> {
    const accounts = Math.max(2, this.o.ledgerAccounts ?? 6);
    const from = Math.floor(this.random() * accounts);
    const to = (from + 1 + Math.floor(this.random() * (accounts - 1))) % accounts;
    const account = (i: number) => `${this.o.tag}-acct${i}`;
    if (this.random() < 0.25) {
      return { key: account(from), ledger: "deposit", body: { account: account(from), amount: 100 } };
    }
    const amount = 1 + Math.floor(this.random() * 60);
    return { key: account(from), ledger: "transfer", body: { from: account(from), to: account(to), amount } };
  }

  private counterKey(i: number): string {
    return `counter:${this.o.tag}:${i < this.hot ? `hot${i}` : i}`;
  }

  private pickCounter(): number {
    const r = this.random();
    if (this.hot > 0 && r < 0.5) return Math.floor(r * 2 * this.hot);
    return Math.floor(this.random() * this.counters);
  }

  private keyFor(dataClass: DataClass): string {
    if (dataClass === "critical")
      return `acct:${this.o.tag}:${Math.floor(this.random() * this.criticalKeys)}`;
    const n = Math.floor(this.random() * this.keys);
    return dataClass === "cacheable" ? `pref:${this.o.tag}:${n}` : `px:${this.o.tag}:${n}`;
  }

  private valueFor(dataClass: DataClass, index: number): unknown {
    if (dataClass === "critical") return { balance: index };
    return { n: index, at: Date.now() };
  }
}
