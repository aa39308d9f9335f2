// Seeded randomness for workloads that must make the same choices on every run (benches and the
// randomized integration tests): mulberry32, whose low bits are as random as its high ones (an LCG's
// low bits cycle, which made workloads degenerate).

/** Floats in [0, 1); one seed always gives the same sequence. */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
}

/** Integers in [0, n) drawn from mulberry32(seed). */
export function seededInts(seed: number): (n: number) => number {
  const next = mulberry32(seed);
  return (n) => Math.floor(next() * n);
}
