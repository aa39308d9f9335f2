// Redis key layout of one lock space. `prefix` isolates tenants / test runs.
export interface LockKeys {
  /** Prefix of every lock key (lock(r) = lockPrefix + r). */
  readonly lockPrefix: string;
  lock(resource: string): string;
  fence(resource: string): string;
  readonly holders: string;
  readonly waits: string;
  readonly waitSeq: string;
  /** `<epoch>|<redis run_id>`: the fencing epoch and the server incarnation it was set in. */
  readonly epoch: string;
  nsMembers(namespace: string): string;
}

export function lockKeys(prefix: string): LockKeys {
  return {
    lockPrefix: `${prefix}l:`,
    lock: (r) => `${prefix}l:${r}`,
    fence: (r) => `${prefix}f:${r}`,
    holders: `${prefix}holders`,
    waits: `${prefix}waits`,
    waitSeq: `${prefix}wseq`,
    epoch: `${prefix}epoch`,
    nsMembers: (ns) => `${prefix}ns:${ns}`,
  };
}

/** Owner part of a token `<owner>|<random>`. */
export function ownerOfToken(token: string): string {
  const i = token.lastIndexOf("|");
  return i < 0 ? token : token.slice(0, i);
}
