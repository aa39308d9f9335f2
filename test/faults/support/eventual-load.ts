// Eventual load that survives faults: rounds of PN-counter increments and OR-set adds in every region
// through the region nodes' HTTP API. A write counts as acknowledged only on 200; a timeout, a dropped
// connection or a 5xx leaves its effect unknown (it may or may not have been applied), so the final
// counters are checked against [acknowledged, acknowledged + unknown] — exact when nothing is unknown.
import { get, measureConvergence, put, sleep } from "../../support/pipeline.js";
import type { FaultCluster } from "./fault-cluster.js";

/** Longer than any freeze a scenario injects: a frozen node's requests get their real answer after it. */
const REQUEST_TIMEOUT_MS = 8000;

export interface LoadKeys {
  counters: readonly string[];
  sets: readonly string[];
}

/** Two PN-counters and one OR-set named after a scenario's tag (each scenario writes its own keys). */
export function loadKeys(tag: string): LoadKeys {
  return { counters: [`pos:${tag}0`, `pos:${tag}1`], sets: [`watch:${tag}`] };
}

/** Performs one write in a region; resolves with an HTTP-like status (200 = acknowledged). */
export type RegionWriter = (key: string, body: unknown) => Promise<number>;

/** The default writer: PUT through the region node's HTTP API. */
export function httpWriter(url: string): RegionWriter {
  return async (key, body) => (await put(url, "important", key, body, REQUEST_TIMEOUT_MS)).status;
}

export class EventualLoad {
  readonly ackedCount = new Map<string, number>();
  readonly unknownCount = new Map<string, number>();
  readonly ackedElements = new Map<string, Set<string>>();
  acknowledged = 0;
  unknown = 0;
  refused = 0;
  ops = 0;
  lastAckMs = 0;
  private running = false;
  private loops: Promise<void>[] = [];

  constructor(
    private readonly cluster: FaultCluster,
    readonly keys: LoadKeys,
    /** Regions that take writes (default all). */
    private readonly writers: readonly string[] = cluster.layout.regions,
    /** Writers that replace a region's HTTP API (e.g. a cache with a skewed clock). */
    private readonly custom: Record<string, RegionWriter> = {},
  ) {}

  private writerOf(region: string): RegionWriter {
    return this.custom[region] ?? httpWriter(this.cluster.regions[region]!.url);
  }

  /** One loop per writer region, so a region that hangs does not slow the others' writes. */
  start(pauseMs = 20): void {
    this.running = true;
    this.loops = this.writers.map(async (region) => {
      for (let round = 0; this.running; round++) {
        await this.writeRound(region, round);
        await sleep(pauseMs);
      }
    });
  }

  async stop(): Promise<void> {
    this.running = false;
    await Promise.all(this.loops);
  }

  /**
   * After a heal: each writer region is sent fresh writes (to a probe key, outside the checked keys)
   * until one is acknowledged — writes the load issued before the heal may still be waiting out their
   * timeouts. Resolves with the ms from `sinceMs` per region; regions still refusing after `timeoutMs`
   * are missing from the map.
   */
  async probeRecovery(sinceMs: number, timeoutMs: number): Promise<Map<string, number>> {
    const recovered = new Map<string, number>();
    await Promise.all(
      this.writers.map(async (region) => {
        const send = this.writerOf(region);
        for (let n = 0; Date.now() - sinceMs <= timeoutMs; n++) {
          const outcome = await outcomeOf(() => send("px:recovery-probe", { value: `${region}:${n}` }));
          if (outcome === "acknowledged") {
            recovered.set(region, Date.now() - sinceMs);
            return;
          }
          await sleep(50);
        }
      }),
    );
    return recovered;
  }

  /** One round of `region`: region i adds i + 1 to every counter and `<region>:<round>` to every set. */
  async writeRound(region: string, round: number): Promise<void> {
    const send = this.writerOf(region);
    const by = this.cluster.layout.regions.indexOf(region) + 1;
    const element = `${region}:${round}`;
    await Promise.all([
      ...this.keys.counters.map((k) =>
        this.write(
          send,
          k,
          { op: "increment", by },
          () => bump(this.ackedCount, k, by),
          () => bump(this.unknownCount, k, by),
        ),
      ),
      ...this.keys.sets.map((k) =>
        this.write(send, k, { op: "add", element }, () => {
          const s = this.ackedElements.get(k) ?? new Set<string>();
          s.add(element);
          this.ackedElements.set(k, s);
        }),
      ),
    ]);
  }

  private async write(
    send: RegionWriter,
    key: string,
    body: unknown,
    onAck: () => void,
    onUnknown?: () => void,
  ) {
    this.ops += 1;
    const outcome = await outcomeOf(() => send(key, body));
    if (outcome === "acknowledged") {
      this.acknowledged += 1;
      this.lastAckMs = Date.now();
      onAck();
    } else if (outcome === "refused") {
      this.refused += 1;
    } else {
      this.unknown += 1;
      onUnknown?.();
    }
  }

  /**
   * Reads every key in every region and compares with what was acknowledged. `lost` counts acknowledged
   * increments missing from a counter plus acknowledged set elements missing; `excess` counts counter
   * surplus beyond acknowledged + unknown (a write applied twice).
   */
  async verify(): Promise<{ lost: number; excess: number; exact: boolean; problems: string[] }> {
    let lost = 0;
    let excess = 0;
    const problems: string[] = [];
    for (const region of this.cluster.layout.regions) {
      const url = this.cluster.regions[region]!.url;
      for (const k of this.keys.counters) {
        const value = Number((await get(url, "important", k, REQUEST_TIMEOUT_MS)).body?.value ?? 0);
        const acked = this.ackedCount.get(k) ?? 0;
        const upper = acked + (this.unknownCount.get(k) ?? 0);
        if (value < acked) {
          lost += acked - value;
          problems.push(`${k}@${region}=${value} < acknowledged ${acked}`);
        } else if (value > upper) {
          excess += value - upper;
          problems.push(`${k}@${region}=${value} > acknowledged+unknown ${upper}`);
        }
      }
      for (const k of this.keys.sets) {
        const value = new Set((await get(url, "important", k, REQUEST_TIMEOUT_MS)).body?.value ?? []);
        const missing = [...(this.ackedElements.get(k) ?? [])].filter((e) => !value.has(e));
        lost += missing.length;
        if (missing.length) problems.push(`${k}@${region} misses ${missing.slice(0, 3).join(",")}…`);
      }
    }
    return { lost, excess, exact: this.unknown === 0, problems };
  }

  /** Per-key ms from `sinceMs` until every region's Redis holds the same state (throws after 20 s). */
  convergence(sinceMs: number): Promise<Map<string, number>> {
    return measureConvergence(this.cluster, [...this.keys.counters, ...this.keys.sets], sinceMs, 20_000);
  }
}

/**
 * 200: acknowledged. A 4xx or a refused connection (nothing listened): nothing was written. A 5xx, a
 * timeout or a dropped connection: the write may or may not have been applied.
 */
async function outcomeOf(send: () => Promise<number>): Promise<"acknowledged" | "refused" | "unknown"> {
  try {
    const status = await send();
    if (status === 200) return "acknowledged";
    return status >= 400 && status < 500 ? "refused" : "unknown";
  } catch (err) {
    const cause = (err as { cause?: { code?: string } } | undefined)?.cause;
    return cause?.code === "ECONNREFUSED" ? "refused" : "unknown";
  }
}

function bump(m: Map<string, number>, k: string, by: number): void {
  m.set(k, (m.get(k) ?? 0) + by);
}
