// A session token: the highest version this client has seen or written per key. Carried across regions
// (encode/decode), it makes reads refuse anything older (read-your-writes, monotonic reads).
import { InvalidInputError } from "@meridian/core";

export class StrongSession {
  private readonly seen = new Map<string, number>();

  observe(key: string, version: number): void {
    if (version > (this.seen.get(key) ?? 0)) this.seen.set(key, version);
  }

  minVersion(key: string): number {
    return this.seen.get(key) ?? 0;
  }

  encode(): string {
    return Buffer.from(JSON.stringify([...this.seen])).toString("base64url");
  }

  static decode(token: string): StrongSession {
    const s = new StrongSession();
    try {
      const entries = JSON.parse(Buffer.from(token, "base64url").toString()) as unknown;
      if (!Array.isArray(entries)) throw new Error("not a list");
      for (const e of entries) {
        if (!Array.isArray(e) || typeof e[0] !== "string" || !Number.isSafeInteger(e[1]))
          throw new Error("bad entry");
        s.observe(e[0], e[1]);
      }
    } catch (err) {
      throw new InvalidInputError(`bad session token: ${(err as Error).message}`);
    }
    return s;
  }
}
