export * from "./hlc.js";
export * from "./vector-clock.js";
