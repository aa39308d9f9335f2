// @meridian/dashboard — the live convergence dashboard (SSE + canvas charts) and the `meridian` CLI.
export * from "./page.js";
export * from "./server.js";
