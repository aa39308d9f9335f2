// Fenced transfers between accounts kept as critical data (key `ledger:<account>`, value
// `{balance, fence, holder}`). A transfer takes both account locks in a fixed order (sorted ids, so two
// transfers never wait on each other in a cycle), each with a fencing token, then writes both balances in
// ONE strong-tier transaction through the node's client (every L1 copy invalidated first). Inside that
// transaction, under PostgreSQL's row locks, each account applies the fencing rule: a write is refused
// unless its token is larger than the one stored with the balance (or the same acquisition's), so a holder
// whose lock lapsed mid-transfer cannot overwrite a newer one. Overdrafts are refused before anything is
// written. Locks live on ONE region's Redis (`lockRegion`, the same for every node) so nodes of every
// region exclude each other; lock wait and hold times feed meridian_lock_wait/hold_seconds.
import type { MeridianClient } from "@meridian/client";
import { FencingTokenError, InsufficientFundsError, InvalidInputError } from "@meridian/core";
import { type LockHandle, type LockManager, withLockOwner } from "@meridian/locks";
import { lockHistograms, timedLock } from "@meridian/monitor";
import type { TxnView } from "@meridian/strong";
import type { Registry } from "prom-client";

/** Key prefix of ledger accounts; plain PUTs to it are refused (balances change only by transfers). */
export const LEDGER_PREFIX = "ledger:";
/** Lock namespace label of the lock metrics. */
export const LEDGER_LOCK_NAMESPACE = "ledger";
const ACCOUNT_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

interface Account {
  balance: number;
  fence: number;
  holder: string;
}

export interface AccountState {
  account: string;
  balance: number;
  version: number;
}

export interface TransferResult {
  from: AccountState;
  to: AccountState;
  amount: number;
  /** The fencing token each account's write carried. */
  fences: Record<string, number>;
  region: string;
}

export interface LedgerOptions {
  region: string;
  client: MeridianClient;
  /** Lock manager on the lock region's Redis, with durable fencing epochs. */
  locks: LockManager;
  /** Registry the lock wait/hold histograms are exposed on. */
  registry: Registry;
  /**
   * Bound on waiting for all of a transfer's account locks together (default 4000 ms), well inside the
   * HTTP request timeout (10 s) so a queued transfer gets its typed 423, not a dropped connection.
   */
  lockWaitMs?: number;
  /** Lock ttl (default 10 000 ms; the watchdog renews it while a transfer runs). */
  lockTtlMs?: number;
}

export class Ledger {
  private readonly timings: ReturnType<typeof lockTimings>;

  constructor(private readonly o: LedgerOptions) {
    this.timings = lockTimings(o.registry);
  }

  /** Moves `amount` from `from` to `to`; InsufficientFundsError (nothing written) if `from` has less. */
  async transfer(from: string, to: string, amount: number): Promise<TransferResult> {
    checkAccount(from, "from");
    checkAccount(to, "to");
    if (from === to) throw new InvalidInputError("from and to must differ", { field: "to" });
    checkAmount(amount);
    return this.locked([from, to], async (fences) => {
      const r = await this.o.client.criticalTransaction([ledgerKey(from), ledgerKey(to)], (tx) => {
        const src = fencedAccount(tx, from, fences.get(from)!);
        const dst = fencedAccount(tx, to, fences.get(to)!);
        if (src.balance < amount) {
          throw new InsufficientFundsError(`account ${from} holds ${src.balance}, cannot send ${amount}`, {
            account: from,
            balance: src.balance,
            amount,
          });
        }
        checkBalance(dst.balance + amount, to);
        stage(tx, from, src.balance - amount, fences.get(from)!);
        stage(tx, to, dst.balance + amount, fences.get(to)!);
        return { from: src.balance - amount, to: dst.balance + amount };
      });
      return {
        from: { account: from, balance: r.result.from, version: r.versions[ledgerKey(from)]! },
        to: { account: to, balance: r.result.to, version: r.versions[ledgerKey(to)]! },
        amount,
        fences: Object.fromEntries([...fences].map(([a, h]) => [a, h.fence])),
        region: this.o.region,
      };
    });
  }

  /** Adds `amount` to `account` (how money enters the ledger), under the account's lock. */
  async deposit(account: string, amount: number): Promise<AccountState> {
    checkAccount(account, "account");
    checkAmount(amount);
    return this.locked([account], async (fences) => {
      const h = fences.get(account)!;
      const r = await this.o.client.criticalTransaction([ledgerKey(account)], (tx) => {
        const balance = fencedAccount(tx, account, h).balance + amount;
        checkBalance(balance, account);
        stage(tx, account, balance, h);
        return balance;
      });
      return { account, balance: r.result, version: r.versions[ledgerKey(account)]! };
    });
  }

  /** Runs `fn` holding the locks of `accounts`, taken in sorted order as one lock owner. */
  private locked<T>(accounts: string[], fn: (fences: Map<string, LockHandle>) => Promise<T>): Promise<T> {
    const { locks } = this.o;
    const deadline = performance.now() + (this.o.lockWaitMs ?? 4_000);
    return withLockOwner(locks.newOwnerId(), async () => {
      const held: { handle: LockHandle; release(): Promise<void> }[] = [];
      try {
        for (const account of [...accounts].sort()) {
          held.push(
            await timedLock(
              this.timings,
              LEDGER_LOCK_NAMESPACE,
              () =>
                locks.acquire(`account/${account}`, {
                  waitMs: Math.max(0, Math.round(deadline - performance.now())),
                  ttlMs: this.o.lockTtlMs ?? 10_000,
                }),
              (h) => h.release(),
            ),
          );
        }
        return await fn(new Map(held.map((l) => [l.handle.resource.slice("account/".length), l.handle])));
      } finally {
        // A lock lost meanwhile is harmless here: the fenced transaction already refused a stale write.
        for (const l of held.reverse()) await l.release().catch(() => {});
      }
    });
  }
}

export function ledgerKey(account: string): string {
  return `${LEDGER_PREFIX}${account}`;
}

/** The timedLock sink: lock wait / hold into the registry's histograms. */
function lockTimings(registry: Registry) {
  const { wait, hold } = lockHistograms([registry]);
  return {
    recordLockWait: (namespace: string, ms: number) => wait.observe({ namespace }, ms / 1000),
    recordLockHold: (namespace: string, ms: number) => hold.observe({ namespace }, ms / 1000),
    recordCoherenceMessage: () => {},
  };
}

/** The account's current state, after checking that `h` may still write it (the fencing rule). */
function fencedAccount(tx: TxnView, account: string, h: LockHandle): Account {
  const current = tx.get<Account>(ledgerKey(account));
  if (current === undefined) return { balance: 0, fence: 0, holder: "" };
  if (!(current.fence < h.fence || (current.fence === h.fence && current.holder === h.token))) {
    throw new FencingTokenError(
      `fencing token ${h.fence} of account ${account} is not newer than ${current.fence}`,
      {
        account,
        fence: h.fence,
        seen: current.fence,
      },
    );
  }
  return current;
}

function stage(tx: TxnView, account: string, balance: number, h: LockHandle): void {
  tx.set(ledgerKey(account), { balance, fence: h.fence, holder: h.token } satisfies Account);
}

function checkAccount(account: unknown, field: string): asserts account is string {
  if (typeof account !== "string" || !ACCOUNT_ID.test(account)) {
    throw new InvalidInputError(`${field} must be an account id (letters, digits, . _ -; ≤ 128)`, { field });
  }
}

function checkAmount(amount: unknown): asserts amount is number {
  if (typeof amount !== "number" || !Number.isSafeInteger(amount) || amount < 1) {
    throw new InvalidInputError("amount must be a positive integer (smallest currency unit)", {
      field: "amount",
    });
  }
}

function checkBalance(balance: number, account: string): void {
  if (!Number.isSafeInteger(balance)) {
    throw new InvalidInputError(`balance of ${account} would exceed ${Number.MAX_SAFE_INTEGER}`, {
      field: "amount",
    });
  }
}
