export * from "./model/model-checker.js";
export * from "./model/mutate.js";
export * from "./protocol/cache-table.js";
export * from "./protocol/directory-table.js";
export * from "./protocol/engine.js";
export * from "./protocol/messages.js";
