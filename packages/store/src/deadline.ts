// Bounds one backend call by a time budget. A frozen server (SIGSTOP, a full network buffer) answers
// nothing and raises nothing; without a bound the caller waits as long as the freeze.
import { BackendUnavailableError } from "@meridian/core";

export type Backend = "redis" | "postgres" | "kafka";

/**
 * Resolves or rejects as `call` does, or rejects with BackendUnavailableError after `ms`. The call itself is
 * not cancelled (its reply, if any, is ignored), so only bound calls whose late effect is harmless.
 */
export async function withDeadline<T>(
  backend: Backend,
  what: string,
  ms: number,
  call: Promise<T>,
): Promise<T> {
  if (!(ms > 0) || ms === Number.POSITIVE_INFINITY) return call;
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () =>
        reject(
          new BackendUnavailableError(`${backend}: ${what} got no answer within ${Math.round(ms)} ms`, {
            backend,
            timeoutMs: Math.round(ms),
          }),
        ),
      ms,
    );
  });
  try {
    return await Promise.race([call, expired]);
  } finally {
    clearTimeout(timer);
    call.catch(() => {}); // a late rejection of an abandoned call must not become an unhandled one
  }
}
