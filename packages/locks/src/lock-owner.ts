// Who a lock acquisition acts for. Deadlock detection follows "owner A holds x and waits for y", so the
// owner must be the logical task that holds several locks, not one acquisition. Resolution order: an
// explicit `owner`, then the ambient owner of the calling async context (withLockOwner), then the
// client's own id (one per LockManager, or per StrongConsistencyCache).
import { AsyncLocalStorage } from "node:async_hooks";
import { InvalidInputError } from "@meridian/core";

const ambient = new AsyncLocalStorage<string>();

/** Runs `fn` (and everything it awaits) as lock owner `owner`: one task, one node in the wait-for graph. */
export function withLockOwner<T>(owner: string, fn: () => T): T {
  if (typeof owner !== "string" || owner.length === 0 || owner.includes("|")) {
    throw new InvalidInputError("lock owner must be a non-empty string without '|'", { owner });
  }
  return ambient.run(owner, fn);
}

/** The ambient lock owner of the calling async context, if withLockOwner set one. */
export function currentLockOwner(): string | undefined {
  return ambient.getStore();
}
