export * from "./clocks/index.js";
export * from "./config.js";
export * from "./crdt/index.js";
export * from "./errors.js";
export * from "./json-limits.js";
export * from "./reads.js";
export * from "./region.js";
export * from "./secret.js";
