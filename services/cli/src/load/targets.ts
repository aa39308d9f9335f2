// Where a load run sends its operations: the region nodes' HTTP API (any running cluster, in this
// process or not), or — for rates HTTP parsing on a small machine cannot offer — straight into the
// in-process region nodes' `get` / `set` (same code path below the HTTP layer).
import { InvalidInputError } from "@meridian/core";
import { LoadOperationError } from "./errors.js";
import type { PlannedOp } from "./workload.js";

export interface LoadTarget {
  readonly regions: readonly string[];
  /**
   * Resolves when the operation was acknowledged (a read with the age of what it read, when the target
   * reports it); rejects with LoadOperationError otherwise.
   */
  execute(op: PlannedOp): Promise<ReadAnswer | undefined>;
}

export interface ReadAnswer {
  /** How old the value read was (ms since its write), as the node reported it. */
  ageMs?: number;
}

export interface HttpTargetOptions {
  /** Region → base URL of its node (e.g. `cluster.regions[r].url`). */
  nodes: Record<string, string>;
  /** Sent with every request: the bearer token writes need. */
  headers?: Record<string, string>;
  /** Bound on every request (default 5000 ms). */
  timeoutMs?: number;
  /** Parse read answers for the value's age (costs a JSON parse per read). */
  readAges?: boolean;
}

export function httpTarget(o: HttpTargetOptions): LoadTarget {
  const timeoutMs = o.timeoutMs ?? 5000;
  const headers = o.headers ?? {};
  const writeHeaders = { ...headers, "content-type": "application/json" };
  return {
    regions: Object.keys(o.nodes),
    async execute(op) {
      const base = o.nodes[op.region];
      if (!base) throw new LoadOperationError(`no node for region ${op.region}`, false);
      const write = op.kind !== "get";
      const path = op.ledger
        ? `/v1/critical/${op.ledger}`
        : `/v1/${op.dataClass}/${encodeURIComponent(op.key)}`;
      let res: Response;
      let text = "";
      try {
        res = await fetch(`${base}${path}`, {
          method: op.ledger ? "POST" : write ? "PUT" : "GET",
          headers: write ? writeHeaders : headers,
          ...(write ? { body: JSON.stringify(op.body) } : {}),
          signal: AbortSignal.timeout(timeoutMs),
        });
        text = await res.text();
      } catch (err) {
        throw new LoadOperationError(`${op.key}@${op.region}: ${(err as Error).message}`, "unknown");
      }
      // A read of a key nobody wrote yet is an answer, not an error.
      if (res.ok && !write && o.readAges) return readAnswer(text);
      if (res.ok || (!write && res.status === 404)) return undefined;
      // A refused overdraft is a ledger's normal answer, not a failure of the load.
      if (op.ledger && res.status === 409) return undefined;
      // 400/401/403/404/409: refused before anything was written; anything else may have applied.
      const refused = res.status >= 400 && res.status < 500 && res.status !== 408;
      throw new LoadOperationError(
        `${op.ledger ? `POST ${path}` : write ? "PUT" : "GET"} ${op.key}@${op.region}: HTTP ${res.status}`,
        refused ? false : "unknown",
        res.status,
      );
    },
  };
}

function readAnswer(text: string): ReadAnswer {
  try {
    const ageMs = (JSON.parse(text) as { ageMs?: unknown }).ageMs;
    return typeof ageMs === "number" ? { ageMs } : {};
  } catch {
    return {};
  }
}

/** The library-level node every region node wraps (`cluster.nodes[r].node`). */
export interface DirectNode {
  get(cls: PlannedOp["dataClass"], key: string): Promise<unknown>;
  set(cls: PlannedOp["dataClass"], key: string, body: unknown): Promise<unknown>;
}

/** Calls the in-process region nodes directly, bounded by timeoutMs (default 5000 ms) like HTTP. */
export function directTarget(nodes: Record<string, DirectNode>, timeoutMs = 5000): LoadTarget {
  return {
    regions: Object.keys(nodes),
    async execute(op) {
      const node = nodes[op.region];
      if (!node) throw new LoadOperationError(`no node for region ${op.region}`, false);
      if (op.ledger) throw new LoadOperationError("ledger transfers go over HTTP (--transport http)", false);
      const call =
        op.kind === "get" ? node.get(op.dataClass, op.key) : node.set(op.dataClass, op.key, op.body);
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
      });
      try {
        const answer = await Promise.race([call, timeout]);
        const ageMs = (answer as { ageMs?: unknown } | null)?.ageMs;
        return typeof ageMs === "number" ? { ageMs } : undefined;
      } catch (err) {
        const refused = err instanceof InvalidInputError;
        throw new LoadOperationError(
          `${op.key}@${op.region}: ${(err as Error).message}`,
          refused ? false : "unknown",
        );
      } finally {
        clearTimeout(timer);
      }
    },
  };
}

/**
 * Operations straight into the in-process nodes (`direct`), except fenced ledger transfers, which only the
 * nodes' HTTP routes serve (`http`).
 */
export function directExceptLedger(direct: LoadTarget, http: LoadTarget): LoadTarget {
  return { regions: direct.regions, execute: (op) => (op.ledger ? http : direct).execute(op) };
}
