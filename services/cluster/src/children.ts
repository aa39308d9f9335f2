// Region nodes and invalidation consumers an in-process cluster runs as child processes instead, so a
// test can SIGKILL, freeze (SIGSTOP) and restart them: the same services, environment and ready lines as
// the processes topology.
import { InvalidInputError, parseRegion } from "@meridian/core";
import { freePort } from "./child.js";
import type { ClusterOptions } from "./cluster.js";
import { RestartableService } from "./service-process.js";
import { serviceSpecs } from "./service-specs.js";
import type { ClusterContext } from "./wiring.js";

/** The regions whose node / consumer runs as a child process. */
export interface ChildProcessOptions {
  nodes?: readonly string[];
  consumers?: readonly string[];
}

/** The running children by region; a test kills, freezes and restarts them through these. */
export interface ClusterChildren {
  /** On a fixed port each, so a restarted node keeps its URL. */
  readonly nodes: Record<string, RestartableService>;
  readonly consumers: Record<string, RestartableService>;
}

/** Refuses an unknown region, and children with the WAN layer (a child's hops would bypass its proxies). */
export function checkChildren(opts: ClusterOptions, regions: readonly string[]): void {
  const { nodes = [], consumers = [] } = opts.childProcesses ?? {};
  for (const r of nodes) parseRegion(r, regions, "childProcesses.nodes");
  for (const r of consumers) parseRegion(r, regions, "childProcesses.consumers");
  if (opts.wan && nodes.length + consumers.length > 0) {
    throw new InvalidInputError("childProcesses cannot be combined with the WAN layer (wan)");
  }
}

function specsOf(ctx: ClusterContext, opts: ClusterOptions) {
  return serviceSpecs(ctx.config, ctx.layout, {
    marketData: opts.marketData,
    critical: opts.critical !== false,
  });
}

/**
 * Started and ready; its URL is `current.url`. `pgSchema` is the in-process nodes' schema (the critical
 * table and the writer incarnations), so every node of the cluster shares them.
 */
export async function startChildNode(
  ctx: ClusterContext,
  opts: ClusterOptions,
  region: string,
  pgSchema: string | undefined,
): Promise<RestartableService> {
  const port = opts.ports?.regionNodes?.[region] ?? (await freePort());
  const spawn = specsOf(ctx, opts).nodeSpawn(region);
  const env = {
    ...spawn.env,
    MERIDIAN_PORT: String(port),
    ...(pgSchema ? { MERIDIAN_PG_SCHEMA: pgSchema } : {}),
  };
  const child = new RestartableService({ ...spawn, env });
  await child.start();
  return child;
}

export async function startChildConsumer(
  ctx: ClusterContext,
  opts: ClusterOptions,
  region: string,
): Promise<RestartableService> {
  const child = new RestartableService(specsOf(ctx, opts).consumerSpawn(region));
  await child.start();
  return child;
}
