// Runs the exhaustive model check on larger configurations than the unit test does (minutes, not
// seconds) and prints how many states each explored. Run: pnpm tsx bench/coherence/model-check.ts
import { type ModelConfig, modelCheck } from "@meridian/coherence";

const configs: [string, ModelConfig][] = [
  ["3 caches, 1 line, 3 stores, non-blocking", { caches: 3, lines: 1, maxWrites: 3 }],
  ["2 caches, 2 lines, 2 stores, in-order", { caches: 2, lines: 2, maxWrites: 2, blockingProcessor: true }],
  [
    "3 caches, 2 lines, 2 stores, capacity 1, in-order",
    { caches: 3, lines: 2, maxWrites: 2, capacity: 1, blockingProcessor: true },
  ],
];
for (const [name, cfg] of configs) {
  const t0 = Date.now();
  const r = modelCheck({ ...cfg, maxStates: 5_000_000 });
  const verdict = r.violation
    ? `VIOLATION ${r.violation.kind}: ${r.violation.detail}`
    : r.truncated
      ? "TRUNCATED"
      : "ok";
  console.log(
    `${name}: ${r.statesExplored} states, ${r.transitions} transitions, ${((Date.now() - t0) / 1000).toFixed(1)} s, ${verdict}`,
  );
}
