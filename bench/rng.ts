/**
 * A seeded PRNG (mulberry32). Every subject of a comparison draws from its own generator with the
 * same seed, so pipestate and its baselines replay the same sequence of operations.
 */
export type Rng = () => number;

export function seeded(seed: number): Rng {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A uniform integer in [0, n). */
export const below = (rng: Rng, n: number): number => Math.floor(rng() * n);
