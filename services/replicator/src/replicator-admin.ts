// The replicator's admin API: partition / heal regions and change the WAN latency matrix at run time.
import { errorResponse, type HttpResponse, type Router } from "@meridian/service-kit";
import type { LatencyMatrix } from "@meridian/wan";
import type { ReplicatorHandle } from "./replicator.js";

export function addAdminRoutes(router: Router, handle: ReplicatorHandle): void {
  router.on("GET", "/admin/status", () => ({ status: 200, body: handle.status() }));
  router.on("GET", "/admin/partitions", () => ({
    status: 200,
    body: { partitions: handle.status().partitions },
  }));
  router.on("POST", "/admin/partition/:region", (req): HttpResponse => {
    handle.partition(req.params.region!);
    return { status: 200, body: { partitions: handle.status().partitions } };
  });
  router.on("POST", "/admin/heal/:region", (req): HttpResponse => {
    handle.heal(req.params.region!);
    return { status: 200, body: { partitions: handle.status().partitions } };
  });
  router.on("GET", "/admin/latency", () => ({ status: 200, body: handle.status().latencyMs }));
  router.on("PUT", "/admin/latency", (req): HttpResponse => {
    if (typeof req.body === "number" || (typeof req.body === "object" && req.body !== null)) {
      // Checked (regions, delays) against the full matrix before it applies: InvalidInputError → 400.
      handle.setLatency(req.body as number | Partial<LatencyMatrix>);
    } else {
      return errorResponse(
        400,
        "INVALID_INPUT",
        "body must be a number (uniform ms) or a latency matrix object",
      );
    }
    return { status: 200, body: handle.status().latencyMs };
  });
}
