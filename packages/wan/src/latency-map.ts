// Measures an operation per (client region, home region) pair: every pair runs its samples one after
// another (a sample's latency is never queued behind another of the same pair), all pairs at once (the
// whole map takes about as long as its slowest pair). Beside each pair: the physical floor, the
// configured round trip between the two regions.
export interface PairSamples {
  client: string;
  home: string;
  op: string;
  samplesMs: number[];
  /** Configured round trip client → home → client (0 within a region). */
  floorMs: number;
  errors: number;
}

export interface MeasurePairsOptions {
  regions: readonly string[];
  ops: readonly string[];
  samples: number;
  /** One-way delay between two regions (0 for a region to itself). */
  oneWayMs: (from: string, to: string) => number;
  run: (op: string, client: string, home: string, i: number) => Promise<void>;
}

export async function measurePairs(o: MeasurePairsOptions): Promise<PairSamples[]> {
  const pairs = o.regions.flatMap((client) => o.regions.map((home) => ({ client, home })));
  return Promise.all(
    pairs.flatMap(({ client, home }) =>
      o.ops.map(async (op) => {
        const samplesMs: number[] = [];
        let errors = 0;
        for (let i = 0; i < o.samples; i++) {
          const startedAt = performance.now();
          try {
            await o.run(op, client, home, i);
            samplesMs.push(performance.now() - startedAt);
          } catch {
            errors++;
          }
        }
        const floorMs = client === home ? 0 : o.oneWayMs(client, home) + o.oneWayMs(home, client);
        return { client, home, op, samplesMs, floorMs, errors };
      }),
    ),
  );
}
