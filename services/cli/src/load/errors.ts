// Typed errors of the load generator: bad flags (a usage error, never retriable) and a failed operation
// (with whether it certainly did not apply, which the exact counter checks need).
import { InvalidInputError, MeridianError } from "@meridian/core";

/** A `meridian load` flag or mix spec Meridian will not accept; `flag` names it. */
export class LoadFlagError extends InvalidInputError {
  constructor(
    readonly flag: string,
    message: string,
  ) {
    super(`${flag}: ${message}`, { flag });
  }
}

/**
 * One operation the target refused or did not answer. `applied: false` means it certainly did not take
 * effect (the request was refused as invalid); `"unknown"` (timeouts, 5xx, a dropped connection) may have.
 */
export class LoadOperationError extends MeridianError {
  readonly code = "LOAD_OPERATION_FAILED";
  override readonly retriable = true;
  constructor(
    message: string,
    readonly applied: false | "unknown",
    readonly status?: number,
  ) {
    super(message, status === undefined ? {} : { status });
  }
}
