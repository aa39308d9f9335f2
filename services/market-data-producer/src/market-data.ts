// Synthetic market data: a geometric random walk per symbol with a bid/ask spread and random volume.
// Pure (the random source is injectable) so the walk can be tested without Kafka.
import type { MarketTickRecord } from "@meridian/bus";

/** One tick: the bus's TS shape of schemas/MarketTick.avsc. */
export type MarketTick = MarketTickRecord;

export interface RandomWalkOptions {
  symbols: number;
  /** Per-tick volatility of the log price (default 0.001 = 0.1 %). */
  volatility?: number;
  /** Spread as a fraction of price (default 0.0005 = 5 bp). */
  spread?: number;
  random?: () => number;
  now?: () => number;
}

export function symbolNames(count: number): string[] {
  return Array.from({ length: count }, (_, i) => `SYM${String(i).padStart(3, "0")}`);
}

const round = (n: number, digits = 4): number => Math.round(n * 10 ** digits) / 10 ** digits;

/** Prices never fall below one cent: a long run of down moves would otherwise round to a price of 0. */
const MIN_PRICE = 0.01;

export class RandomWalk {
  readonly symbols: string[];
  private readonly prices: number[];
  private readonly sequence: number[];
  private cursor = 0;
  private readonly volatility: number;
  private readonly spread: number;
  private readonly random: () => number;
  private readonly now: () => number;

  constructor(opts: RandomWalkOptions) {
    if (!Number.isInteger(opts.symbols) || opts.symbols < 1)
      throw new RangeError("symbols must be a positive integer");
    this.symbols = symbolNames(opts.symbols);
    this.volatility = opts.volatility ?? 0.001;
    this.spread = opts.spread ?? 0.0005;
    this.random = opts.random ?? Math.random;
    this.now = opts.now ?? Date.now;
    this.prices = this.symbols.map(() => 20 + this.random() * 480);
    this.sequence = this.symbols.map(() => 0);
  }

  /** Standard normal by Box–Muller. */
  private gaussian(): number {
    const u = Math.max(this.random(), Number.EPSILON);
    const v = this.random();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  }

  /** The next tick, symbols taken round-robin so every symbol moves at the same rate. */
  next(): MarketTick {
    const i = this.cursor;
    this.cursor = (this.cursor + 1) % this.symbols.length;
    const price = Math.max(MIN_PRICE, this.prices[i]! * Math.exp(this.volatility * this.gaussian()));
    this.prices[i] = price;
    this.sequence[i] = this.sequence[i]! + 1;
    const half = (price * this.spread) / 2;
    return {
      symbol: this.symbols[i]!,
      price: round(price),
      bid: round(price - half),
      ask: round(price + half),
      volume: 1 + Math.floor(this.random() * 1000),
      sequence: this.sequence[i]!,
      timestampMs: this.now(),
    };
  }
}
