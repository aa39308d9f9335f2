export * from "./clocks/index.js";
export * from "./config.js";
export * from "./errors.js";
