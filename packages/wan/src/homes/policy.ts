// Which region is the home of a critical key, before any re-homing: an explicit directory entry, else the
// longest matching prefix rule, else a hash of the key's owner id. The owner id is the key's first two
// `:`-separated segments (`acct:42`, `acct:42:orders` and `acct:42:limits` share `acct:42`), so all of an
// account's keys land in one home and a multi-key transaction on them stays local. Re-homing later
// overrides this default through durable home records (see home-store.ts).
import { InvalidInputError, parseRegion } from "@meridian/core";

export interface HomePolicyOptions {
  regions: readonly string[];
  /** Exact keys or owner ids → region. */
  directory?: Readonly<Record<string, string>>;
  /** Key prefix → region; the longest matching prefix wins. */
  prefixes?: Readonly<Record<string, string>>;
  /** Prefixes of read-mostly keys: served from a local copy under a lease instead of forwarded. */
  readMostly?: readonly string[];
}

/** The owner id of a key: its first two `:`-separated segments. */
export function ownerId(key: string): string {
  const first = key.indexOf(":");
  if (first < 0) return key;
  const second = key.indexOf(":", first + 1);
  return second < 0 ? key : key.slice(0, second);
}

/** FNV-1a, 32 bits: stable across processes and versions (no dependency on Node's hash seeds). */
export function fnv1a(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}

export class HomePolicy {
  readonly regions: readonly string[];
  private readonly directory: ReadonlyMap<string, string>;
  private readonly prefixes: [string, string][];
  private readonly readMostly: readonly string[];

  constructor(opts: HomePolicyOptions) {
    if (opts.regions.length === 0) throw new InvalidInputError("a home policy needs regions");
    this.regions = [...opts.regions];
    const check = (region: string, rule: string): string =>
      parseRegion(region, this.regions, `home rule ${rule}`);
    this.directory = new Map(Object.entries(opts.directory ?? {}).map(([k, r]) => [k, check(r, k)]));
    this.prefixes = Object.entries(opts.prefixes ?? {})
      .map(([p, r]): [string, string] => [p, check(r, p)])
      .sort((a, b) => b[0].length - a[0].length);
    this.readMostly = [...(opts.readMostly ?? [])];
  }

  /** The key's home when it was never re-homed. */
  defaultHome(key: string): string {
    const explicit = this.directory.get(key) ?? this.directory.get(ownerId(key));
    if (explicit) return explicit;
    const rule = this.prefixes.find(([p]) => key.startsWith(p));
    if (rule) return rule[1];
    return this.regions[fnv1a(ownerId(key)) % this.regions.length]!;
  }

  isReadMostly(key: string): boolean {
    return this.readMostly.some((p) => key.startsWith(p));
  }
}

/** A key `<tag>:<n>` whose default home is `home` (probes and benchmarks pick one per region). */
export function keyHomedIn(policy: HomePolicy, home: string, tag: string): string {
  for (let n = 0; n < 100_000; n++) {
    const key = `${tag}:${n}`;
    if (policy.defaultHome(key) === home) return key;
  }
  throw new InvalidInputError(`no key of tag ${tag} is homed in ${home}`, { tag, home });
}
