// The `critical` data class with home regions: a region node answers through its region's HomeRouter,
// which serves keys homed here locally and forwards the others to their home across the WAN. Every
// answer carries its placement (home, forwarded, forwardMs, localCopy).
import type { HomeRouter, Routed } from "@meridian/wan";
import type { CriticalStore, Placement } from "./region-node.js";
import { criticalWriteValue } from "./request-body.js";
import { readCritical } from "./strong-critical.js";

function placementOf(r: Routed): Placement {
  return { home: r.home, forwarded: r.forwarded, forwardMs: r.forwardMs, localCopy: r.localCopy };
}

export function geoCriticalStore(router: HomeRouter): CriticalStore {
  return {
    get: (key, readOpts) =>
      readCritical(
        key,
        readOpts,
        (o) => router.get(key, o),
        (r) => ({ placement: placementOf(r) }),
      ),
    async set(key, body) {
      const w = await router.set(key, criticalWriteValue(body));
      return { key, class: "critical", region: w.region, version: w.version, placement: placementOf(w) };
    },
  };
}
