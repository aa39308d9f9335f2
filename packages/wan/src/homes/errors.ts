// Typed errors of the home-region layer.
import { MeridianError } from "@meridian/core";

/**
 * The region asked does not (or no longer) own the key: `home` is where it lives as far as this region
 * knows, `epoch` the home record's epoch (higher = newer; routers keep the highest they saw).
 */
export class NotHomeError extends MeridianError {
  readonly code = "NOT_HOME";
  constructor(
    readonly key: string,
    readonly home: string,
    readonly epoch: number,
  ) {
    super(`${key} lives in ${home} (epoch ${epoch})`, { key, home, epoch });
  }
}

/** A request between regions carried no valid cluster credential. */
export class PeerAuthError extends MeridianError {
  readonly code = "PEER_UNAUTHENTICATED";
}
