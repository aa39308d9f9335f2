// Bearer-token authentication of the services' HTTP routes. Writes and admin routes always need the
// token; reads need it when MERIDIAN_AUTH_READS is on; health stays public for probes. Tokens are
// compared in constant time (SHA-256 of both sides, then timingSafeEqual: no early exit, no length leak).
import { createHash, timingSafeEqual } from "node:crypto";
import type { HttpAuth, Secret } from "@meridian/core";

export type Access = "public" | "read" | "write";

export interface Refusal {
  message: string;
  /** The WWW-Authenticate header value (RFC 6750). */
  challenge: string;
}

const REALM = 'Bearer realm="meridian"';

function digest(text: string): Buffer {
  return createHash("sha256").update(text, "utf8").digest();
}

/** Whether an Authorization header carries exactly `token` as a bearer token. */
export function bearerMatches(header: string | undefined, token: Secret): boolean {
  const match = /^Bearer[ ]+(\S+)\s*$/i.exec(header ?? "");
  const presented = match?.[1] ?? "";
  const equal = timingSafeEqual(digest(presented), digest(token.reveal()));
  return match !== null && equal;
}

/** Undefined when the call may proceed; otherwise why not (answered as 401). */
export function authorize(
  access: Access,
  header: string | undefined,
  auth: HttpAuth | undefined,
): Refusal | undefined {
  if (access === "public" || (access === "read" && !auth?.reads)) return undefined;
  if (!auth?.token) {
    return {
      message: "this route needs a bearer token and the service has none configured (MERIDIAN_AUTH_TOKEN)",
      challenge: REALM,
    };
  }
  if (header === undefined) return { message: "missing bearer token", challenge: REALM };
  if (!bearerMatches(header, auth.token)) {
    return { message: "invalid bearer token", challenge: `${REALM}, error="invalid_token"` };
  }
  return undefined;
}

/** Request headers that authenticate a client with `token` (none without one). */
export function bearerHeaders(token: Secret | undefined): Record<string, string> {
  return token ? { authorization: `Bearer ${token.reveal()}` } : {};
}
