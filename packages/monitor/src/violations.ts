// The record of violations found and operations observed: counts, rate against the target, and a bounded
// list of the violations themselves (for reports and the dashboard).

export type ViolationKind =
  | "stale_strong_read"
  | "convergence_window_exceeded"
  | "linearizability"
  | "lost_update"
  | (string & {});

export interface Violation {
  kind: ViolationKind;
  at: number;
  key?: string;
  region?: string;
  message: string;
  details?: Record<string, unknown>;
}

/** The target: fewer than 0.001 % of operations may violate consistency. */
export const DEFAULT_VIOLATION_RATE_TARGET = 0.00001;

export class ViolationLog {
  private readonly recent: Violation[] = [];
  private readonly byKind = new Map<string, number>();
  private total = 0;
  private ops = 0;
  private readonly checksByKind = new Map<string, number>();

  constructor(
    readonly target = DEFAULT_VIOLATION_RATE_TARGET,
    private readonly keep = 500,
  ) {}

  record(v: Violation): void {
    this.total++;
    this.byKind.set(v.kind, (this.byKind.get(v.kind) ?? 0) + 1);
    this.recent.push(v);
    if (this.recent.length > this.keep) this.recent.shift();
  }

  countOperations(n: number): void {
    this.ops += n;
  }

  /** A check the monitor made (it counts as an operation observed too). */
  countCheck(kind: string, n = 1): void {
    this.checksByKind.set(kind, (this.checksByKind.get(kind) ?? 0) + n);
    this.ops += n;
  }

  checks(): Record<string, number> {
    return Object.fromEntries(this.checksByKind);
  }

  get operations(): number {
    return this.ops;
  }

  get count(): number {
    return this.total;
  }

  countOf(kind: string): number {
    return this.byKind.get(kind) ?? 0;
  }

  kinds(): Record<string, number> {
    return Object.fromEntries(this.byKind);
  }

  /** Violations per operation observed; 0 before any operation. */
  rate(): number {
    return this.ops === 0 ? 0 : this.total / this.ops;
  }

  meetsTarget(): boolean {
    return this.rate() < this.target;
  }

  list(): readonly Violation[] {
    return this.recent;
  }
}
