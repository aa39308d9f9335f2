// Lock escalation: one owner locking many keys of a namespace switches to the namespace lock past a
// threshold. The namespace lock is taken BEFORE the key locks are released, so protection has no gap.
// Compatibility (checked atomically in Lua): a key lock is refused while another owner holds the
// namespace lock; the namespace lock is refused while another owner holds any key lock of the namespace.
// Key locks of a namespace must go through a LockEscalator (plain acquire() does not register them).
import { LockTimeoutError } from "@meridian/core";
import type { LockHandle } from "./lock-handle.js";
import type { AcquireOptions, LockManager } from "./lock-manager.js";
import { ACQUIRE_IN_NAMESPACE, ACQUIRE_NAMESPACE } from "./scripts.js";

export interface EscalatorOptions {
  namespace: string;
  /** Most key locks held at once; the next key lock escalates to the namespace lock (default 100). */
  threshold?: number;
  owner?: string;
  /** Options for every key / namespace acquisition. */
  acquire?: AcquireOptions;
  /** How long an escalation attempt may wait for other owners' key locks (default 0: try once). */
  escalationWaitMs?: number;
}

/** Resource name of a key lock in a namespace. */
export const keyResource = (namespace: string, key: string) => `${namespace}/${key}`;
/** Resource name of a namespace lock. */
export const namespaceResource = (namespace: string) => `${namespace}/*`;

export class LockEscalator {
  private readonly keyLocks = new Map<string, LockHandle>();
  private nsLock: LockHandle | undefined;
  readonly namespace: string;
  readonly threshold: number;
  readonly owner: string;

  constructor(
    private readonly manager: LockManager,
    private readonly options: EscalatorOptions,
  ) {
    this.namespace = options.namespace;
    this.threshold = options.threshold ?? 100;
    this.owner = options.owner ?? manager.owner ?? manager.newOwnerId();
  }

  get escalated(): boolean {
    return this.nsLock !== undefined;
  }

  /** The handle that protects `key` now (its fence goes with writes), if locked. */
  handleFor(key: string): LockHandle | undefined {
    return this.nsLock ?? this.keyLocks.get(key);
  }

  heldKeys(): string[] {
    return [...this.keyLocks.keys()];
  }

  /** Locks `key` (or notes it is covered by the namespace lock). Escalates past the threshold. */
  async lock(key: string): Promise<LockHandle> {
    if (this.nsLock) return this.nsLock;
    const existing = this.keyLocks.get(key);
    if (existing) return existing;
    if (this.keyLocks.size >= this.threshold) {
      const ns = await this.tryEscalate();
      if (ns) return ns;
      // Other owners hold keys of the namespace: keep key locking and try again on the next key.
    }
    const handle = await this.acquireKey(key);
    this.keyLocks.set(key, handle);
    return handle;
  }

  /** Releases everything this escalator holds. */
  async releaseAll(): Promise<void> {
    const handles = [...this.keyLocks.values(), ...(this.nsLock ? [this.nsLock] : [])];
    this.keyLocks.clear();
    this.nsLock = undefined;
    const results = await Promise.allSettled(handles.map((h) => h.release()));
    const failed = results.find((r) => r.status === "rejected");
    if (failed) throw (failed as PromiseRejectedResult).reason;
  }

  private async acquireKey(key: string): Promise<LockHandle> {
    const m = this.manager;
    const resource = keyResource(this.namespace, key);
    const ns = namespaceResource(this.namespace);
    return m.acquireWith(resource, { owner: this.owner, ...this.options.acquire }, async (token, ttl) =>
      Number(
        await ACQUIRE_IN_NAMESPACE.run(
          m.redis,
          [
            m.keys.lock(resource),
            m.keys.fence(resource),
            m.keys.holders,
            m.keys.lock(ns),
            m.keys.nsMembers(ns),
            m.keys.epoch,
          ],
          [token, ttl, resource, this.owner],
        ),
      ),
    );
  }

  private async tryEscalate(): Promise<LockHandle | undefined> {
    const m = this.manager;
    const ns = namespaceResource(this.namespace);
    let handle: LockHandle;
    try {
      handle = await m.acquireWith(
        ns,
        { owner: this.owner, ...this.options.acquire, waitMs: this.options.escalationWaitMs ?? 0 },
        async (token, ttl) =>
          Number(
            await ACQUIRE_NAMESPACE.run(
              m.redis,
              [m.keys.lock(ns), m.keys.fence(ns), m.keys.holders, m.keys.nsMembers(ns), m.keys.epoch],
              [token, ttl, ns, this.owner, m.fullLockPrefix],
            ),
          ),
      );
    } catch (err) {
      if (err instanceof LockTimeoutError) return undefined;
      throw err;
    }
    // Protected by the namespace lock from here on; now drop the key locks.
    this.nsLock = handle;
    const keys = [...this.keyLocks.values()];
    this.keyLocks.clear();
    await Promise.allSettled(keys.map((h) => h.release()));
    return handle;
  }
}
