export * from "./canonical-json.js";
export * from "./dots.js";
export * from "./from-json.js";
export * from "./lww-register.js";
export * from "./mv-register.js";
export * from "./or-set.js";
export * from "./pn-counter.js";
export * from "./types.js";
