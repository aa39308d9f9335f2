// Errors crossing an RPC link travel as { code, message, details } and are rebuilt as the same typed class
// on the caller's side, so `instanceof` works across regions.
import {
  BackendUnavailableError,
  FencingTokenError,
  InvalidInputError,
  MeridianError,
  StalenessBoundError,
} from "@meridian/core";
import { NotHomeError, PeerAuthError } from "../homes/errors.js";

export interface WireError {
  code: string;
  message: string;
  details: Record<string, unknown>;
}

/** A typed error of the remote side with no local class (kept with its code). */
export class RemoteError extends MeridianError {
  constructor(
    readonly code: string,
    message: string,
    details: Record<string, unknown>,
  ) {
    super(message, details);
  }
}

export function toWire(err: unknown): WireError {
  if (err instanceof MeridianError) {
    return { code: err.code, message: err.message, details: { ...err.details } };
  }
  // Untyped failures are not described to the peer beyond their message.
  return { code: "INTERNAL", message: String((err as Error)?.message ?? err), details: {} };
}

type Rebuild = (w: WireError) => MeridianError;
const REBUILD: Record<string, Rebuild> = {
  NOT_HOME: (w) => new NotHomeError(String(w.details.key), String(w.details.home), Number(w.details.epoch)),
  INVALID_INPUT: (w) => new InvalidInputError(w.message, w.details),
  STALENESS_BOUND: (w) => new StalenessBoundError(w.message, w.details),
  STALE_FENCING_TOKEN: (w) => new FencingTokenError(w.message, w.details),
  BACKEND_UNAVAILABLE: (w) => new BackendUnavailableError(w.message, w.details),
  PEER_UNAUTHENTICATED: (w) => new PeerAuthError(w.message, w.details),
};

export function fromWire(w: WireError): MeridianError {
  const rebuild = REBUILD[w.code];
  return rebuild ? rebuild(w) : new RemoteError(w.code, w.message, w.details);
}
