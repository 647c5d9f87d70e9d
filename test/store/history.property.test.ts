/**
 * The capped history of one node (src/store/history.ts) against the obvious model, an array of
 * every attempt: the kept attempts are the newest `cap` of it, the dropped count is the rest, a
 * page is a slice of it counted from the newest end, and a head once returned never changes.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { NodeRecord } from '../../src/lifecycle/index.js';
import { allAttempts, droppedByPush, historyPage, pushAttempt, type History } from '../../src/store/history.js';
import { runs } from '../fc-runs.js';

/** An attempt told apart by its loop counter. */
const attempt = (n: number): NodeRecord => ({
  state: 'FAILED',
  version: '',
  loop: n,
  retry: 0,
  auto_retry_times: 0,
  skip: false,
  error_ignored: false,
  started_at: null,
  finished_at: null,
  state_refresh_at: 0,
  ex_data: undefined,
});
const loops = (rs: readonly NodeRecord[]): number[] => rs.map((r) => r.loop);

/** Positions [offset, offset + limit) counted from the newest, oldest first: what historyPage must answer. */
function modelPage(kept: readonly number[], offset: number, limit: number): number[] {
  const end = Math.max(0, kept.length - offset);
  return kept.slice(Math.max(0, end - limit), end);
}

describe('a capped history', () => {
  it('keeps the newest cap attempts, counts the dropped ones, and pages like a slice from the newest end', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 12 }),
        fc.integer({ min: 0, max: 60 }),
        fc.array(fc.tuple(fc.nat(70), fc.nat(70)), { minLength: 1, maxLength: 8 }),
        (cap, pushes, pages) => {
          let h: History | undefined;
          const heads: { head: History | undefined; kept: number[]; dropped: number }[] = [];
          const all: number[] = [];
          for (let n = 1; n <= pushes; n++) {
            const kept = all.slice(-cap);
            const expectDrop = kept.length === cap ? kept[0] : undefined;
            expect(droppedByPush(h, cap)?.loop).toBe(expectDrop);
            h = pushAttempt(h, attempt(n), cap);
            all.push(n);
            heads.push({ head: h, kept: all.slice(-cap), dropped: Math.max(0, all.length - cap) });
          }
          // every head, including the old ones a snapshot could still hold, answers as it did
          for (const { head, kept, dropped } of heads) {
            expect(head!.count).toBe(kept.length);
            expect(head!.dropped).toBe(dropped);
            expect(loops(allAttempts(head))).toEqual(kept);
            for (const [offset, limit] of pages) expect(loops(historyPage(head, offset, limit))).toEqual(modelPage(kept, offset, limit));
          }
        },
      ),
      { numRuns: runs('storeHistory') },
    );
  });

  it('an empty history answers empty pages and no drop', () => {
    expect(historyPage(undefined, 0, 10)).toEqual([]);
    expect(historyPage(undefined, 5, 0)).toEqual([]);
    expect(droppedByPush(undefined, 1)).toBeUndefined();
  });

  it('a page reads only the cells it answers while they lie in the newest chain', () => {
    let h: History | undefined;
    for (let n = 1; n <= 10; n++) h = pushAttempt(h, attempt(n), 1_000);
    // cut the chain after the third cell: a page within the three newest must not go further
    const cut = (c: History, keep: number): History => ({ ...c, next: keep > 1 ? cut(c.next!, keep - 1) : undefined });
    const short = { ...cut(h!, 3), count: h!.count };
    expect(loops(historyPage(short, 0, 3))).toEqual([8, 9, 10]);
    expect(loops(historyPage(short, 1, 2))).toEqual([8, 9]);
  });
});
