// After the load: a race test on critical data through the region nodes (its history checked for
// linearizability) and, with the WAN layer, the latency map of critical data per (client, home) pair.
import { type Cluster, measureCriticalLatencyMap } from "@meridian/cluster";
import { type ConsistencyMonitor, type LatencyMapRow, latencyMapRow } from "@meridian/monitor";
import type { Print } from "./options.js";

/** Runs the race suite; returns its recorded history. */
export async function raceTest(
  monitor: ConsistencyMonitor,
  namespace: string,
  print: Print,
): Promise<readonly unknown[] | undefined> {
  print(
    "[demo] race test on critical data: 6 clients across the regions, history checked for linearizability ...",
  );
  let history: readonly unknown[] | undefined;
  const suite = await monitor.runConsistencyTests({
    suites: ["race"],
    clients: 6,
    hotKeys: 2,
    opsPerClient: 25,
    keyPrefix: `race-${namespace}:`,
    onHistory: (_name, h) => {
      history = h;
    },
  });
  const race = suite.suites[0]!;
  print(
    `[demo]   ${race.operations} operations, ${race.errors} errors, linearizable: ${race.linearizable === null ? "undecided in the time budget" : race.linearizable ? "yes" : "NO"}`,
  );
  return history;
}

/**
 * One GET and PUT per (client region, home region) before the load: every WAN link's connections opened
 * and the forwarding path compiled, so the load's first seconds do not pay for them (on 2 cores they
 * otherwise outwaited the forwarding deadline). A failure here is printed, not fatal: the load reports its own.
 */
export async function warmCriticalPaths(cluster: Cluster, namespace: string, print: Print): Promise<void> {
  const t0 = Date.now();
  try {
    await measureCriticalLatencyMap(cluster, { samples: 1, tag: `warm-${namespace}` });
    print(`[demo] critical paths warmed: one GET and PUT per region pair in ${Date.now() - t0} ms`);
  } catch (err) {
    print(`[demo] warming the critical paths failed (${(err as Error).message}); starting the load anyway`);
  }
}

/** Critical GET/PUT per (client region, home region) through the nodes, printed and kept for the report. */
export async function criticalLatencyMap(
  cluster: Cluster,
  namespace: string,
  print: Print,
): Promise<LatencyMapRow[]> {
  print("[demo] latency map of critical data per (client region, home region), 5 GETs + 5 PUTs per pair ...");
  const rows = (await measureCriticalLatencyMap(cluster, { samples: 5, tag: `map-${namespace}` })).map(
    latencyMapRow,
  );
  for (const r of rows.filter((x) => x.op === "get")) {
    print(
      `         get ${r.client.padEnd(13)} → home ${r.home.padEnd(13)} p50 ${Math.round(r.p50)} ms (floor ${r.floorMs} ms)`,
    );
  }
  return rows;
}
