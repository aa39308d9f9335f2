// Shared plumbing of the pipeline tests: unique namespaces, HTTP calls to region nodes, clean-up of a
// run's Redis keys and topics, and convergence summaries.
import { randomBytes } from "node:crypto";
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import type { Cluster } from "@meridian/cluster";
import { summarize } from "@meridian/invalidation-consumer";

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../..");

// Writes need a bearer token. Every service these tests start, in this process (configFromEnv) or as a
// child process (inherited environment), reads the same one from MERIDIAN_AUTH_TOKEN.
process.env.MERIDIAN_AUTH_TOKEN ??= randomBytes(24).toString("base64url");
export const AUTH_HEADERS: Record<string, string> = {
  authorization: `Bearer ${process.env.MERIDIAN_AUTH_TOKEN}`,
};

/** A suite's teardown: stops the cluster (when it started) and deletes its run's keys and topics. */
export async function stopAndPurge(cluster: Pick<Cluster, "stop" | "purge"> | undefined): Promise<void> {
  if (!cluster) return;
  await cluster.stop();
  await cluster.purge();
}

export function uniqueNamespace(prefix: string): string {
  return `t-${prefix}-${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;
}

// biome-ignore lint/suspicious/noExplicitAny: JSON answers of the API under test, checked by the assertions
type Json = any;

/** `timeoutMs` aborts the request (the fault tests bound every wait on a frozen node). */
export async function put(
  baseUrl: string,
  cls: string,
  key: string,
  body: unknown,
  timeoutMs?: number,
): Promise<{ status: number; body: Json }> {
  const res = await fetch(`${baseUrl}/v1/${cls}/${encodeURIComponent(key)}`, {
    method: "PUT",
    headers: { "content-type": "application/json", ...AUTH_HEADERS },
    body: JSON.stringify(body),
    ...(timeoutMs !== undefined ? { signal: AbortSignal.timeout(timeoutMs) } : {}),
  });
  return { status: res.status, body: await res.json().catch(() => null) };
}

export async function get(
  baseUrl: string,
  cls: string,
  key: string,
  timeoutMs?: number,
): Promise<{ status: number; body: Json }> {
  const res = await fetch(
    `${baseUrl}/v1/${cls}/${encodeURIComponent(key)}`,
    timeoutMs !== undefined ? { signal: AbortSignal.timeout(timeoutMs) } : {},
  );
  return { status: res.status, body: await res.json().catch(() => null) };
}

/** PUT that must succeed (throws with the answer otherwise, so a lost write fails the test loudly). */
export async function mustPut(baseUrl: string, key: string, body: unknown): Promise<void> {
  const r = await put(baseUrl, "important", key, body);
  if (r.status !== 200)
    throw new Error(`PUT ${key} at ${baseUrl} answered ${r.status} ${JSON.stringify(r.body)}`);
}

/**
 * Polls every region's Redis until each key holds the same CRDT state everywhere; returns, per key, the
 * ms from `sinceMs` to the first poll that saw it converged. Throws (listing keys) after timeoutMs.
 */
export async function measureConvergence(
  cluster: Pick<Cluster, "compareStates">,
  keys: readonly string[],
  sinceMs: number | ((key: string) => number),
  timeoutMs: number,
  among?: readonly string[],
): Promise<Map<string, number>> {
  const since = typeof sinceMs === "number" ? () => sinceMs : sinceMs;
  const done = new Map<string, number>();
  const deadline = Date.now() + timeoutMs;
  while (done.size < keys.length) {
    const pending = keys.filter((k) => !done.has(k));
    const { diverged } = await cluster.compareStates(pending, among);
    const now = Date.now();
    for (const k of pending) if (!diverged.includes(k)) done.set(k, Math.max(0, now - since(k)));
    if (done.size === keys.length) break;
    if (now > deadline) {
      throw new Error(
        `not converged after ${timeoutMs} ms: ${diverged.length} keys differ, e.g. ${diverged.slice(0, 5).join(", ")}`,
      );
    }
    await new Promise((r) => setTimeout(r, 10));
  }
  return done;
}

/** Prints the figures and keeps them under reports/pipeline/ (ignored by git) for the run's report. */
export function reportConvergence(
  name: string,
  perKeyMs: Iterable<number>,
  extra: Record<string, unknown> = {},
) {
  const summary = summarize([...perKeyMs]);
  const line = {
    test: name,
    keys: summary.count,
    p50Ms: summary.p50Ms,
    p99Ms: summary.p99Ms,
    maxMs: summary.maxMs,
    ...extra,
  };
  console.log(`[convergence] ${JSON.stringify(line)}`);
  const dir = resolve(ROOT, "reports/pipeline");
  mkdirSync(dir, { recursive: true });
  writeFileSync(resolve(dir, `${name}.json`), `${JSON.stringify(line, null, 2)}\n`);
  return summary;
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** What a write round needs of a cluster: its regions and each region node's URL. */
export interface ClusterUrls {
  layout: { regions: readonly string[] };
  regions: Record<string, { url: string } | undefined>;
}

/** What a write round adds, so a test can tell exactly what every region must end up holding. */
export interface WriteExpectations {
  counters: Map<string, number>;
  setElements: Set<string>;
}

/**
 * One round of writes in every region at once: region i increments each counter by i + 1, adds
 * `<region>:<round>` to each set and (when given) writes it to each LWW key. The expectations are
 * updated only after a write is acknowledged.
 */
export async function writeRoundInEveryRegion(
  cluster: ClusterUrls,
  round: number,
  keys: { counters: readonly string[]; sets: readonly string[]; lww?: readonly string[] },
  expected: WriteExpectations,
): Promise<void> {
  await Promise.all(
    cluster.layout.regions.map(async (region, ri) => {
      const url = cluster.regions[region]!.url;
      const element = `${region}:${round}`;
      await Promise.all([
        ...keys.counters.map(async (k) => {
          await mustPut(url, k, { op: "increment", by: ri + 1 });
          expected.counters.set(k, (expected.counters.get(k) ?? 0) + ri + 1);
        }),
        ...(keys.lww ?? []).map((k) => mustPut(url, k, { value: element })),
        ...keys.sets.map(async (k) => {
          await mustPut(url, k, { op: "add", element });
          expected.setElements.add(element);
        }),
      ]);
    }),
  );
}
