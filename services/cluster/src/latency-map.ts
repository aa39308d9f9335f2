// The per-pair latency map of critical data on a running cluster with the WAN layer: for every (client
// region, home region) pair, GET and PUT of a key homed there, through the client region's node — the
// path a client takes, forwarding included.
import { InvalidInputError } from "@meridian/core";
import { keyHomedIn, measurePairs, type PairSamples } from "@meridian/wan";
import type { Cluster } from "./cluster.js";

async function call(url: string, init?: RequestInit): Promise<void> {
  const res = await fetch(url, { ...init, signal: AbortSignal.timeout(5000) });
  await res.body?.cancel();
  if (!res.ok) throw new Error(`${init?.method ?? "GET"} ${url}: HTTP ${res.status}`);
}

export async function measureCriticalLatencyMap(
  cluster: Cluster,
  o: { samples: number; tag: string },
): Promise<PairSamples[]> {
  const wan = cluster.wan;
  if (!wan?.geo)
    throw new InvalidInputError("the latency map needs a cluster with the WAN layer and critical data");
  const policy = wan.geo.policy;
  const regions = cluster.layout.regions;
  // One key per (client, home): writers of different pairs never wait on each other's row lock.
  const keyOf = (client: string, home: string) => keyHomedIn(policy, home, `${o.tag}-${client}`);
  const url = (client: string, key: string) =>
    `${cluster.regions[client]!.url}/v1/critical/${encodeURIComponent(key)}`;
  const put = (client: string, key: string, value: unknown) =>
    call(url(client, key), {
      method: "PUT",
      headers: { "content-type": "application/json", ...cluster.authHeaders },
      body: JSON.stringify({ value }),
    });
  await Promise.all(regions.flatMap((c) => regions.map((h) => put(h, keyOf(c, h), 0))));
  return measurePairs({
    regions,
    ops: ["get", "set"],
    samples: o.samples,
    oneWayMs: (a, b) => wan.latency[a]?.[b] ?? 0,
    run: (op, client, home, i) =>
      op === "get"
        ? call(url(client, keyOf(client, home)), { headers: cluster.authHeaders })
        : put(client, keyOf(client, home), i),
  });
}
