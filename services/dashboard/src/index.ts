// @meridian/dashboard — the live convergence dashboard (SSE + canvas charts).
export * from "./page.js";
export * from "./server.js";
