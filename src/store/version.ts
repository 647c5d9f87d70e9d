/**
 * Attempt versions: 32 lowercase hex chars, random like the uuid4().hex the original uses.
 * Drawn from a pooled buffer of random bytes so that a version costs a few string concatenations,
 * not a system call (operations are on the hot path).
 */
import { randomFillSync } from 'node:crypto';

const HEX = Array.from({ length: 256 }, (_, b) => b.toString(16).padStart(2, '0'));
const pool = new Uint8Array(16 * 256);
let offset = pool.length;

export function randomVersion(): string {
  if (offset === pool.length) {
    randomFillSync(pool);
    offset = 0;
  }
  let s = '';
  for (const end = offset + 16; offset < end; offset++) s += HEX[pool[offset]];
  return s;
}

export const VERSION_PATTERN = /^[0-9a-f]{32}$/;
