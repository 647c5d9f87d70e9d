/** Elapsed time of an attempt in whole seconds, rounded as Python's `round` does (SPEC §3.2). */

/** Round half to even: 0.5 → 0, 1.5 → 2, 2.5 → 2. Halves of whole ms are exact in binary. */
export function roundHalfEven(x: number): number {
  const floor = Math.floor(x);
  const fraction = x - floor;
  if (fraction !== 0.5) return fraction < 0.5 ? floor : floor + 1;
  return floor % 2 === 0 ? floor : floor + 1;
}

/**
 * `(end - started_at)` in seconds, rounded; 0 when the node never started. A clock that went
 * backwards (end before start) gives 0 rather than a negative duration.
 */
export function elapsedSeconds(startedAt: number | null, end: number): number {
  if (startedAt === null || !(end > startedAt)) return 0;
  return roundHalfEven((end - startedAt) / 1000);
}
