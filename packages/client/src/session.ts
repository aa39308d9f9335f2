// A client session: the newest version it has seen or written per key — an integer for critical keys,
// a vector clock for important keys. Carried between regions as an opaque token, it makes every read
// at least as new as what the session already saw (read-your-writes, monotonic reads).
import { InvalidInputError, VectorClock } from "@meridian/core";
import { StrongSession } from "@meridian/strong";

/** Keys a token may carry; past this the oldest-observed keys are forgotten (the token stays small). */
const MAX_TRACKED_KEYS = 10_000;

export class MeridianSession {
  /** Critical keys, in the strong tier's own session form. */
  readonly critical: StrongSession;
  private readonly important = new Map<string, VectorClock>();

  constructor(critical = new StrongSession()) {
    this.critical = critical;
  }

  minVersion(key: string): number {
    return this.critical.minVersion(key);
  }

  observeCritical(key: string, version: number): void {
    this.critical.observe(key, version);
  }

  /** The clock an important read of `key` must dominate (empty when the session never saw the key). */
  minClock(key: string): VectorClock | undefined {
    return this.important.get(key);
  }

  observeImportant(key: string, clock: Record<string, number>): void {
    const seen = this.important.get(key);
    const next = seen ? seen.merge(VectorClock.from(clock)) : VectorClock.from(clock);
    this.important.delete(key);
    this.important.set(key, next);
    if (this.important.size > MAX_TRACKED_KEYS) {
      const oldest = this.important.keys().next().value as string;
      this.important.delete(oldest);
    }
  }

  encode(): string {
    const body = {
      c: this.critical.encode(),
      i: [...this.important].map(([k, v]) => [k, v.toJSON()]),
    };
    return Buffer.from(JSON.stringify(body)).toString("base64url");
  }

  static decode(token: unknown): MeridianSession {
    if (typeof token !== "string" || token.length === 0 || token.length > 4 * 1024 * 1024) {
      throw new InvalidInputError("session token must be a non-empty string of at most 4 MiB");
    }
    let body: unknown;
    try {
      body = JSON.parse(Buffer.from(token, "base64url").toString());
    } catch {
      throw new InvalidInputError("bad session token: not base64url JSON");
    }
    const b = body as { c?: unknown; i?: unknown };
    if (typeof b !== "object" || b === null || typeof b.c !== "string" || !Array.isArray(b.i)) {
      throw new InvalidInputError("bad session token: missing fields");
    }
    const s = new MeridianSession(StrongSession.decode(b.c));
    for (const entry of b.i) {
      if (!Array.isArray(entry) || typeof entry[0] !== "string" || !isClockJson(entry[1])) {
        throw new InvalidInputError("bad session token: bad important entry");
      }
      s.observeImportant(entry[0], entry[1]);
    }
    return s;
  }
}

function isClockJson(v: unknown): v is Record<string, number> {
  if (typeof v !== "object" || v === null || Array.isArray(v)) return false;
  return Object.values(v).every((n) => Number.isSafeInteger(n) && (n as number) >= 0);
}
