// Typed errors of Meridian. Every failure a caller can act on has its own class and a stable `code`,
// so callers branch on `instanceof` or `code` rather than on message text; `retriable` says whether the
// same call may succeed later (a backend back up, a lock freed, a replica caught up) or never will.

export abstract class MeridianError extends Error {
  abstract readonly code: string;
  /** true: retrying the same operation later may succeed; false: it fails the same way every time. */
  readonly retriable: boolean = false;
  constructor(
    message: string,
    readonly details: Readonly<Record<string, unknown>> = {},
  ) {
    super(message);
    this.name = new.target.name;
  }
}

/** The caller passed something Meridian will not accept (empty key, unserializable value, bad JSON...). */
export class InvalidInputError extends MeridianError {
  readonly code = "INVALID_INPUT";
}

/** A write or fill carried a version older than the one already stored. */
export class StaleVersionError extends MeridianError {
  readonly code = "STALE_VERSION";
}

/** A transfer would take an account below zero; nothing was written. */
export class InsufficientFundsError extends MeridianError {
  readonly code = "INSUFFICIENT_FUNDS";
}

/** A write carried a fencing token older than the last one the data store saw. */
export class FencingTokenError extends MeridianError {
  readonly code = "STALE_FENCING_TOKEN";
}

/** A lock could not be acquired within the caller's bound. */
export class LockTimeoutError extends MeridianError {
  readonly code = "LOCK_TIMEOUT";
  override readonly retriable = true;
}

/** The caller does not hold the lock it tried to release or renew (expired, or someone else's). */
export class LockNotHeldError extends MeridianError {
  readonly code = "LOCK_NOT_HELD";
}

/** Waiting for the lock would close a cycle in the wait-for graph; the caller was chosen as victim. */
export class DeadlockError extends MeridianError {
  readonly code = "DEADLOCK";
  override readonly retriable = true;
}

/** A consistency promise was broken (stale strong read, divergence past the window...). */
export class ConsistencyViolation extends MeridianError {
  readonly code = "CONSISTENCY_VIOLATION";
}

/** A read could not meet the caller's freshness bound (maxAgeMs / minVersion / session). */
export class StalenessBoundError extends MeridianError {
  readonly code = "STALENESS_BOUND";
  override readonly retriable = true;
}

/** Hybrid logical clock: a remote timestamp is further ahead of local physical time than allowed. */
export class ClockDriftError extends MeridianError {
  readonly code = "CLOCK_DRIFT";
}

/** A dependency (Redis, PostgreSQL, Kafka) is unreachable or failed mid-operation. */
export class BackendUnavailableError extends MeridianError {
  readonly code = "BACKEND_UNAVAILABLE";
  override readonly retriable = true;
}

/**
 * A bounded queue in front of a backend is full: the caller is refused at once instead of waiting or
 * growing memory. Nothing of the refused operation was applied; retry after a short back-off
 * (`details.retryAfterMs`, when given, is the server's hint).
 */
export class OverloadedError extends MeridianError {
  readonly code = "OVERLOADED";
  override readonly retriable = true;
}

/** A server refused this process's credentials (wrong password or token, unknown user): not retriable. */
export class AuthenticationError extends MeridianError {
  readonly code = "AUTHENTICATION";
}

/** Encoding or decoding a message failed (bad Avro, unknown schema id, malformed payload). */
export class SerializationError extends MeridianError {
  readonly code = "SERIALIZATION";
}

/** The operation exists in the API but this deployment does not provide it (e.g. no strong store). */
export class NotImplementedError extends MeridianError {
  readonly code = "NOT_IMPLEMENTED";
}
