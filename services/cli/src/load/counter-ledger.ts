// What a load run knows about each PN-counter: the sum of acknowledged increments, and the sum of those
// whose outcome is unknown (timed out, 5xx) — so a check can demand value = acknowledged exactly when
// nothing was in doubt, and acknowledged ≤ value ≤ acknowledged + in doubt otherwise.

export interface CounterExpectation {
  acknowledged: number;
  inDoubt: number;
}

export class CounterLedger {
  private readonly sums = new Map<string, CounterExpectation>();

  acknowledge(key: string, by: number): void {
    this.entry(key).acknowledged += by;
  }

  doubt(key: string, by: number): void {
    this.entry(key).inDoubt += by;
  }

  expectations(): ReadonlyMap<string, CounterExpectation> {
    return this.sums;
  }

  /** The counters whose value is not what the acknowledged increments allow. */
  mismatches(values: ReadonlyMap<string, number>): string[] {
    const out: string[] = [];
    for (const [key, e] of this.sums) {
      const v = values.get(key) ?? 0;
      if (v < e.acknowledged || v > e.acknowledged + e.inDoubt)
        out.push(
          `${key}: ${v}, acknowledged ${e.acknowledged}${e.inDoubt ? ` (+ ${e.inDoubt} in doubt)` : ""}`,
        );
    }
    return out;
  }

  private entry(key: string): CounterExpectation {
    let e = this.sums.get(key);
    if (!e) {
      e = { acknowledged: 0, inDoubt: 0 };
      this.sums.set(key, e);
    }
    return e;
  }
}
