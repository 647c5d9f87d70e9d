/**
 * Heap figures for the memory sections, which run with --expose-gc (run.ts starts them so):
 * a full collection before every reading, so a figure is what is retained, not what happens to
 * be lying around. Code spaces are left out: a function optimized between two readings is not
 * memory the data structure holds.
 */
import v8 from 'node:v8';

const gc = (globalThis as { gc?: () => void }).gc;

export function requireGc(): void {
  if (!gc) throw new Error('run with node --expose-gc (npm run bench does)');
}

/** Bytes of heap in use after a full collection, code spaces excepted. */
export function heapUsed(): number {
  // Twice: weak references and finalizers freed by the first collection are only reclaimed by the next.
  gc!();
  gc!();
  let used = 0;
  for (const space of v8.getHeapSpaceStatistics()) {
    if (!space.space_name.startsWith('code')) used += space.space_used_size;
  }
  return used;
}
