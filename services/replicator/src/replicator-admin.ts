// The replicator's admin API: partition / heal regions and change the WAN latency matrix at run time.
import { errorResponse, type HttpResponse, type Router } from "@meridian/service-kit";
import { validateLatencyMatrix } from "@meridian/wan";
import type { ReplicatorHandle } from "./replicator.js";

export function addAdminRoutes(router: Router, handle: ReplicatorHandle, regions: string[]): void {
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
    if (typeof req.body === "number") {
      handle.setLatency(req.body);
    } else if (typeof req.body === "object" && req.body !== null) {
      // Validate the partial matrix against the full one before applying it.
      const merged = { ...handle.status().latencyMs };
      for (const [from, row] of Object.entries(req.body as Record<string, unknown>)) {
        if (!regions.includes(from)) return errorResponse(400, "INVALID_INPUT", `unknown region "${from}"`);
        merged[from] = { ...merged[from], ...(row as Record<string, number>) };
      }
      handle.setLatency(validateLatencyMatrix(merged, regions));
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
