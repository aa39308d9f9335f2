// Exponential back-off with full jitter, capped, so waiters neither spin nor sleep past a release for long.
export interface BackoffOptions {
  minDelayMs: number;
  maxDelayMs: number;
}

export function backoffDelay(attempt: number, opts: BackoffOptions, holderPttlMs?: number): number {
  const ceiling = Math.min(opts.maxDelayMs, opts.minDelayMs * 2 ** Math.min(attempt, 16));
  const jittered = opts.minDelayMs + Math.random() * Math.max(0, ceiling - opts.minDelayMs);
  // No point sleeping much longer than the holder's remaining ttl.
  return holderPttlMs !== undefined ? Math.min(jittered, Math.max(1, holderPttlMs)) : jittered;
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
