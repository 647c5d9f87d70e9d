/**
 * Attempt versions: 32 lowercase hex chars, random like the uuid4().hex the original uses.
 * Drawn from a pooled buffer of random bytes so that a version costs one native hex encoding
 * into one flat string, not a system call (operations are on the hot path). Concatenating
 * byte pairs instead builds a chain of cons strings that outlives the operation in the record.
 */
import { randomFillSync } from 'node:crypto';

const pool = Buffer.alloc(16 * 4096);
let offset = pool.length;

export function randomVersion(): string {
  if (offset === pool.length) {
    randomFillSync(pool);
    offset = 0;
  }
  offset += 16;
  return pool.toString('hex', offset - 16, offset);
}

export const VERSION_PATTERN = /^[0-9a-f]{32}$/;
