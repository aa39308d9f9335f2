// Measures operations per (client region, home region) pair as one client per region would see them:
// each client region issues its operations one at a time, round-robin over the home regions (a burst of
// machine load spreads over every pair instead of landing on a few), the client regions side by side.
// Beside each pair: the physical floor, the configured round trip between the two regions.
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
  const rows: PairSamples[] = o.regions.flatMap((client) =>
    o.regions.flatMap((home) =>
      o.ops.map((op) => ({
        client,
        home,
        op,
        samplesMs: [] as number[],
        floorMs: client === home ? 0 : o.oneWayMs(client, home) + o.oneWayMs(home, client),
        errors: 0,
      })),
    ),
  );
  // One client per region: each region's rows run one at a time, the regions side by side.
  await Promise.all(
    o.regions.map(async (client) => {
      const mine = rows.filter((r) => r.client === client);
      for (let i = 0; i < o.samples; i++) {
        for (const row of mine) {
          const startedAt = performance.now();
          try {
            await o.run(row.op, row.client, row.home, i);
            row.samplesMs.push(performance.now() - startedAt);
          } catch {
            row.errors++;
          }
        }
      }
    }),
  );
  return rows;
}
