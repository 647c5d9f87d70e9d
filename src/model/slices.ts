/**
 * Work done in slices. A long computation (a status answer over 10^5 nodes, unpacking a large
 * definition) is written as a generator that yields at checkpoints, each after a bounded amount
 * of work. A caller with time to spare runs it to the end with `complete`; the HTTP service runs
 * it a few checkpoints at a time and lets other requests in between, so no single answer can
 * hold the event loop. The generator reads only immutable data (a snapshot), so pausing it
 * between checkpoints is safe while writes continue.
 */
export type Slices<T> = Generator<void, T, undefined>;

/** Nodes visited between two checkpoints: about 10–100 µs of work, a yield costs ~0.1 µs. */
export const NODES_PER_SLICE = 256;

/** Runs sliced work to the end, at once. */
export function complete<T>(work: Slices<T>): T {
  for (;;) {
    const step = work.next();
    if (step.done) return step.value;
  }
}
