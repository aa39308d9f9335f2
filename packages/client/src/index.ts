// Public API of @meridian/client: the embeddable client with a coherent in-process L1 per data class.
export { type ClassView, createMeridianClient, MeridianClient, type SetOptions } from "./client.js";
export { type L1Counters, L1Store } from "./l1.js";
export type { L1Options, MeridianClientOptions } from "./options.js";
export { MeridianSession } from "./session.js";
export type { ClientRead, ClientWrite, ReadOptions, Source, WriteOptions } from "./types.js";
