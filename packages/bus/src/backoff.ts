// Exponential back-off with jitter: consumers of one group that crash together must not restart in step.

export interface BackoffOptions {
  initialMs: number;
  maxMs: number;
  /** Fraction of the delay drawn at random (0 = none, 0.5 = delay in [d/2, d]). */
  jitter?: number;
}

/** Delay before the n-th attempt after a failure (n ≥ 1): initial·2^(n-1), capped, minus a random share. */
export function backoffDelay(
  attempt: number,
  opts: BackoffOptions,
  random: () => number = Math.random,
): number {
  const base = Math.min(opts.maxMs, opts.initialMs * 2 ** Math.max(0, Math.min(attempt - 1, 30)));
  const jitter = Math.min(1, Math.max(0, opts.jitter ?? 0));
  return Math.round(base * (1 - jitter * random()));
}

/** Resolves after `ms`, or at once when `signal` is already aborted / as soon as it aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done(): void {
      clearTimeout(timer);
      signal?.removeEventListener("abort", done);
      resolve();
    }
    signal?.addEventListener("abort", done, { once: true });
  });
}
