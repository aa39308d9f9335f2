// A cluster launched for a demo or a test must still refuse unauthenticated writes: without a configured
// bearer token it makes a random one for its services and hands it to its clients.
import { randomBytes } from "node:crypto";
import { type MeridianConfig, Secret } from "@meridian/core";

/** The config with a bearer token: the configured one, or a fresh random one. */
export function withAuthToken(config: MeridianConfig): MeridianConfig {
  if (config.httpAuth?.token) return config;
  const token = new Secret(randomBytes(32).toString("base64url"));
  return { ...config, httpAuth: { reads: config.httpAuth?.reads ?? false, token } };
}
