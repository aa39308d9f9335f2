import { ClockDriftError, InvalidInputError } from "../errors.js";

/** A hybrid logical clock timestamp (Kulkarni et al. 2014): physical ms, logical counter, issuing node. */
export type HlcTimestamp = { wallMs: number; logical: number; node: string };

export interface HybridLogicalClockOptions {
  /** How far a remote timestamp may run ahead of local physical time before update() refuses it. */
  maxDriftMs?: number;
  /** Injected physical clock in ms (defaults to Date.now); may jump backwards, the HLC stays monotonic. */
  physicalNow?: () => number;
}

export const DEFAULT_MAX_DRIFT_MS = 60_000;

/** Total order: wallMs, then logical, then node id (the tie-break between nodes). */
export function compareHlc(a: HlcTimestamp, b: HlcTimestamp): -1 | 0 | 1 {
  if (a.wallMs !== b.wallMs) return a.wallMs < b.wallMs ? -1 : 1;
  if (a.logical !== b.logical) return a.logical < b.logical ? -1 : 1;
  if (a.node !== b.node) return a.node < b.node ? -1 : 1;
  return 0;
}

export function maxHlc(a: HlcTimestamp, b: HlcTimestamp): HlcTimestamp {
  return compareHlc(a, b) >= 0 ? a : b;
}

export function validateHlc(ts: unknown): HlcTimestamp {
  if (ts === null || typeof ts !== "object") {
    throw new InvalidInputError("HLC timestamp must be an object", { ts });
  }
  const { wallMs, logical, node } = ts as Record<string, unknown>;
  if (typeof wallMs !== "number" || !Number.isSafeInteger(wallMs) || wallMs < 0) {
    throw new InvalidInputError("HLC wallMs must be a non-negative safe integer", { wallMs });
  }
  if (typeof logical !== "number" || !Number.isSafeInteger(logical) || logical < 0) {
    throw new InvalidInputError("HLC logical must be a non-negative safe integer", { logical });
  }
  if (typeof node !== "string" || node.length === 0) {
    throw new InvalidInputError("HLC node must be a non-empty string", { node });
  }
  return { wallMs, logical, node };
}

const WALL_DIGITS = 15;
const LOGICAL_DIGITS = 10;

/**
 * "000001732550000000:0000000003:eu-west". Fixed-width numbers make plain string order equal
 * compareHlc order (for wallMs < 1e15 and logical < 1e10), handy for Redis/PostgreSQL comparisons.
 */
export function encodeHlc(ts: HlcTimestamp): string {
  const t = validateHlc(ts);
  const wall = String(t.wallMs).padStart(WALL_DIGITS, "0");
  const logical = String(t.logical).padStart(LOGICAL_DIGITS, "0");
  return `${wall}:${logical}:${t.node}`;
}

export function decodeHlc(encoded: string): HlcTimestamp {
  if (typeof encoded !== "string") throw new InvalidInputError("encoded HLC must be a string", { encoded });
  const match = /^([0-9]+):([0-9]+):(.+)$/s.exec(encoded);
  if (!match) throw new InvalidInputError("malformed encoded HLC timestamp", { encoded });
  return validateHlc({ wallMs: Number(match[1]), logical: Number(match[2]), node: match[3] });
}

/**
 * Hybrid logical clock of one node. Stateful (unlike the value objects): every now()/update() result is
 * strictly greater than every timestamp this clock issued or received before.
 */
export class HybridLogicalClock {
  readonly node: string;
  readonly maxDriftMs: number;
  private readonly physicalNow: () => number;
  private wallMs = 0;
  private logical = 0;

  constructor(node: string, opts: HybridLogicalClockOptions = {}) {
    if (typeof node !== "string" || node.length === 0) {
      throw new InvalidInputError("HLC node id must be a non-empty string", { node });
    }
    const maxDriftMs = opts.maxDriftMs ?? DEFAULT_MAX_DRIFT_MS;
    if (!(maxDriftMs >= 0)) throw new InvalidInputError("maxDriftMs must be >= 0", { maxDriftMs });
    this.node = node;
    this.maxDriftMs = maxDriftMs;
    this.physicalNow = opts.physicalNow ?? Date.now;
  }

  /** The last timestamp issued, without advancing the clock. */
  peek(): HlcTimestamp {
    return { wallMs: this.wallMs, logical: this.logical, node: this.node };
  }

  /** Timestamp for a local or send event. */
  now(): HlcTimestamp {
    const pt = this.readPhysical();
    if (pt > this.wallMs) {
      this.wallMs = pt;
      this.logical = 0;
    } else {
      this.bumpLogical();
    }
    return this.peek();
  }

  /** Timestamp for receiving `remote`; greater than both the local previous and the remote timestamp. */
  update(remote: HlcTimestamp): HlcTimestamp {
    const r = validateHlc(remote);
    const pt = this.readPhysical();
    if (r.wallMs - pt > this.maxDriftMs) {
      throw new ClockDriftError("remote HLC timestamp is too far ahead of local physical time", {
        remoteWallMs: r.wallMs,
        localPhysicalMs: pt,
        driftMs: r.wallMs - pt,
        maxDriftMs: this.maxDriftMs,
        remoteNode: r.node,
      });
    }
    const prevWall = this.wallMs;
    const prevLogical = this.logical;
    const wall = Math.max(prevWall, r.wallMs, pt);
    let logical: number;
    if (wall === prevWall && wall === r.wallMs) logical = Math.max(prevLogical, r.logical) + 1;
    else if (wall === prevWall) logical = prevLogical + 1;
    else if (wall === r.wallMs) logical = r.logical + 1;
    else logical = 0;
    if (!Number.isSafeInteger(logical)) {
      throw new ClockDriftError("HLC logical counter overflow", { wallMs: wall, logical });
    }
    this.wallMs = wall;
    this.logical = logical;
    return this.peek();
  }

  private bumpLogical(): void {
    if (this.logical >= Number.MAX_SAFE_INTEGER) {
      throw new ClockDriftError("HLC logical counter overflow", {
        wallMs: this.wallMs,
        logical: this.logical,
      });
    }
    this.logical += 1;
  }

  private readPhysical(): number {
    const pt = this.physicalNow();
    if (typeof pt !== "number" || !Number.isFinite(pt) || pt < 0) {
      throw new InvalidInputError("physical clock returned an invalid time", { pt });
    }
    return Math.floor(pt);
  }
}
