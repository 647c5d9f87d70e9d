/**
 * The ended attempts of one node: a persistent queue capped at a number of attempts, where the
 * newest attempt goes in at one end and, once the cap is reached, the oldest falls out of the
 * other.
 *
 * It is two immutable lists of cells, as in a banker's queue: the newest attempts in a chain,
 * newest first, that a push extends in O(1); and, once a drop has been needed, the oldest ones
 * in a list oldest first, from which a drop takes its head in O(1). When a drop finds that list
 * empty it reverses the chain into it: O(cap), once per cap pushes, so O(1) a push amortized
 * (the store only ever pushes onto the newest head, so old heads held by snapshots do not
 * break the amortization). Every head carries the counts, so the total is O(1), and a page
 * counted from the newest attempt costs O(offset + limit) while it lies in the chain, at most
 * O(cap) otherwise.
 *
 * Cells are one shape (V8 keeps one hidden class): on a head, every field is meaningful; on a
 * cell of the oldest list only `attempt` and `next` are.
 */
import type { NodeRecord } from '../lifecycle/index.js';
import { jsonTextBytes } from '../model/index.js';

export interface History {
  readonly attempt: NodeRecord;
  /** in the chain: the next older attempt; in the oldest list: the next newer one */
  readonly next: History | undefined;
  /** attempts kept: this one and every other the head reaches */
  readonly count: number;
  /** attempts dropped, oldest first, to keep the count at the cap */
  readonly dropped: number;
  /** the oldest attempts kept, oldest first, after the chain's end */
  readonly oldest: History | undefined;
}

const cell = (attempt: NodeRecord, next: History | undefined, count: number, dropped: number, oldest: History | undefined): History => ({
  attempt,
  next,
  count,
  dropped,
  oldest,
});

/** The chain from `h` reversed: oldest first. */
function reversed(h: History): History {
  let out: History | undefined;
  for (let c: History | undefined = h; c !== undefined; c = c.next) out = cell(c.attempt, out, 0, 0, undefined);
  return out!;
}

/**
 * The attempt a push onto `h` would drop to stay within `cap`, if any. O(1), except when the push
 * will reverse the chain (once per cap pushes): then O(cap), as the push itself.
 */
export function droppedByPush(h: History | undefined, cap: number): NodeRecord | undefined {
  if (h === undefined || h.count < cap) return undefined;
  if (h.oldest !== undefined) return h.oldest.attempt;
  let c = h;
  while (c.next !== undefined) c = c.next;
  return c.attempt;
}

/** `h` with `attempt` as its newest attempt, the oldest dropped when the count is at `cap`. */
export function pushAttempt(h: History | undefined, attempt: NodeRecord, cap: number): History {
  if (h === undefined) return cell(attempt, undefined, 1, 0, undefined);
  if (h.count < cap) return cell(attempt, h, h.count + 1, h.dropped, h.oldest);
  if (h.oldest !== undefined) return cell(attempt, h, h.count, h.dropped + 1, h.oldest.next);
  // The oldest list is empty: the whole chain becomes it, and a new chain starts.
  return cell(attempt, undefined, h.count, h.dropped + 1, reversed(h).next);
}

/**
 * The attempts at positions [offset, offset + limit) counted from the newest (position 0), in
 * the order SPEC §4 answers them: oldest first.
 */
export function historyPage(h: History | undefined, offset: number, limit: number): NodeRecord[] {
  const total = h === undefined ? 0 : h.count;
  const from = Math.min(offset, total);
  const to = Math.min(offset + limit, total);
  const out = new Array<NodeRecord>(to - from);
  let p = 0;
  let c = h;
  for (; c !== undefined && p < to; c = c.next, p++) if (p >= from) out[to - 1 - p] = c.attempt;
  if (p < to) {
    // The chain ended at position p: the oldest list holds positions p..total-1, the oldest first.
    let q = total - 1;
    for (let o = h!.oldest; o !== undefined && q >= from; o = o.next, q--) if (q < to) out[to - 1 - q] = o.attempt;
  }
  return out;
}

/** Every kept attempt, oldest first. */
export const allAttempts = (h: History | undefined): NodeRecord[] => historyPage(h, 0, h === undefined ? 0 : h.count);

/** The bytes of ex_data (JSON text) a history's kept attempts hold: what they charge to the project's quota. */
export function historyExDataBytes(h: History): number {
  let bytes = 0;
  for (const attempt of allAttempts(h)) if (attempt.ex_data !== undefined) bytes += jsonTextBytes(attempt.ex_data);
  return bytes;
}

/**
 * The history holding `attempts` (oldest first) after `dropped` older ones fell out: what a
 * checkpoint wrote, put back with the same counts, so that a page and the next drop answer as
 * they did before the restart.
 */
export function historyOf(attempts: readonly NodeRecord[], dropped: number): History | undefined {
  let h: History | undefined;
  for (const attempt of attempts)
    h = h === undefined ? cell(attempt, undefined, 1, dropped, undefined) : cell(attempt, h, h.count + 1, h.dropped, h.oldest);
  return h;
}
