// One pino logger and one prom-client registry per service instance. A private registry (not the global
// one) lets several services run in one process — tests and the demo cluster — without metric clashes.
import pino, { type Logger } from "pino";
import { collectDefaultMetrics, Registry } from "prom-client";
import type { HttpResponse, Router } from "./http.js";

export type { Logger } from "pino";

export function createLogger(
  service: string,
  bindings: Record<string, unknown> = {},
  parent?: Logger,
): Logger {
  if (parent) {
    // A process's main already bound `service` (and e.g. `region`); do not repeat them in every line.
    const bound = parent.bindings();
    const fresh = Object.fromEntries(
      Object.entries({ service, ...bindings }).filter(([k, v]) => bound[k] !== v),
    );
    return parent.child(fresh);
  }
  return pino({ level: process.env.MERIDIAN_LOG_LEVEL ?? "info", base: { service, ...bindings } });
}

/** A registry whose metrics carry `service` (and e.g. `region`) as default labels. */
export function createRegistry(labels: Record<string, string>, processMetrics = false): Registry {
  const registry = new Registry();
  registry.setDefaultLabels(labels);
  // Process-level metrics (CPU, heap) only make sense once per process: the runnable mains turn them on.
  if (processMetrics) collectDefaultMetrics({ register: registry, prefix: "meridian_" });
  return registry;
}

export type HealthCheck = () => Promise<void>;

/** Adds `GET /metrics` and `GET /healthz` to a router. Health runs each check; any failure → 503. */
export function addObservabilityRoutes(
  router: Router,
  registry: Registry,
  checks: Record<string, HealthCheck>,
): Router {
  router.on("GET", "/metrics", async (): Promise<HttpResponse> => {
    return { status: 200, text: await registry.metrics(), contentType: registry.contentType };
  });
  router.on(
    "GET",
    "/healthz",
    async (): Promise<HttpResponse> => {
      const results: Record<string, string> = {};
      let ok = true;
      await Promise.all(
        Object.entries(checks).map(async ([name, check]) => {
          try {
            await check();
            results[name] = "ok";
          } catch (err) {
            ok = false;
            results[name] = err instanceof Error ? err.message : String(err);
          }
        }),
      );
      return { status: ok ? 200 : 503, body: { status: ok ? "ok" : "unhealthy", checks: results } };
    },
    // Probes (load balancers, orchestrators) carry no token; health says nothing secret.
    { access: "public" },
  );
  return router;
}
