/**
 * The trie's class counts on their own: through growth (a root pushed down a level keeps its
 * counts), through in-place (transient) and copied writes, and in the range queries.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MAX_CLASSES, NO_CLASS, countClasses, emptyTrie, forEachInRange, get, set, visitClasses, type Trie } from '../../src/store/trie.js';
import { runs } from '../fc-runs.js';

const CLASSES = 3;

/** Values are their class (or -1 for none), so a leaf can tell without more state. */
const classOf = (v: number): number => v;

function counts(t: Trie<number>, lo: number, hi: number): number[] {
  const out = new Array<number>(CLASSES).fill(0);
  countClasses(t, lo, hi, classOf, out);
  return out;
}

function brute(values: Map<number, number>, lo: number, hi: number): number[] {
  const out = new Array<number>(CLASSES).fill(0);
  for (const [i, v] of values) if (i >= lo && i < hi && v >= 0) out[v]++;
  return out;
}

describe('trie class counts', () => {
  it('match the values in any range, across growth and old versions', () => {
    const writeArb = fc.record({ index: fc.nat({ max: 40_000 }), value: fc.integer({ min: -1, max: CLASSES - 1 }), fresh: fc.boolean() });
    fc.assert(
      fc.property(
        fc.array(writeArb, { minLength: 1, maxLength: 300 }),
        fc.array(fc.tuple(fc.nat({ max: 41_000 }), fc.nat({ max: 41_000 })), { maxLength: 20 }),
        (writes, ranges) => {
          let t = emptyTrie<number>(0, CLASSES);
          let edit = {};
          const values = new Map<number, number>();
          const versions: { t: Trie<number>; values: Map<number, number> }[] = [];
          for (const w of writes) {
            if (w.fresh) {
              versions.push({ t, values: new Map(values) });
              edit = {};
            }
            const before = values.get(w.index) ?? NO_CLASS;
            t = set(t, w.index, w.value, edit, before, w.value);
            values.set(w.index, w.value);
          }
          versions.push({ t, values });
          for (const v of versions) {
            for (const [a, b] of [[0, Infinity], ...ranges]) {
              const lo = Math.min(a, b);
              const hi = Math.max(a, b);
              expect(counts(v.t, lo, hi)).toEqual(brute(v.values, lo, hi));
            }
            for (const [i, value] of v.values) expect(get(v.t, i)).toBe(value);
          }
        },
      ),
      { numRuns: runs('storeTrieCounts') },
    );
  });

  it('forEachInRange visits every index of [lo, hi) once, in order, with its value or undefined', () => {
    // The checkpoint writer reads a task's nodes in chunks with it. Like get, it answers for
    // indices within the trie's reach (what it was made for or has grown to: a task's nodes).
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.nat({ max: 40_000 }), fc.integer()), { maxLength: 200 }),
        fc.array(fc.tuple(fc.nat({ max: 41_000 }), fc.nat({ max: 1_500 })), { minLength: 1, maxLength: 10 }),
        (writes, ranges) => {
          let t = emptyTrie<number>();
          const edit = {};
          const values = new Map<number, number>();
          for (const [i, v] of writes) {
            t = set(t, i, v, edit);
            values.set(i, v);
          }
          const reach = 2 ** (t.shift + 5);
          for (const [a, asked] of ranges) {
            const lo = Math.min(a, reach);
            const length = Math.min(asked, reach - lo);
            const seen: [number, number | undefined][] = [];
            forEachInRange(t, lo, lo + length, (v, i) => {
              seen.push([i, v]);
            });
            expect(seen).toEqual(Array.from({ length }, (_, k) => [lo + k, values.get(lo + k)]));
          }
        },
      ),
      { numRuns: runs('storeTrieRange') },
    );
  });

  it('counts 0 to 31 classes, and refuses any other number', () => {
    expect(MAX_CLASSES).toBe(31);
    for (const classes of [0, 31]) expect(emptyTrie(0, classes).classes).toBe(classes);
    for (const classes of [-1, 32, 1.5, Number.NaN]) expect(() => emptyTrie(0, classes)).toThrow(new RangeError('classes must be 0..31'));
  });

  it('visits exactly the values of the asked classes, in order, and stops when told', () => {
    let t = emptyTrie<number>(0, CLASSES);
    const edit = {};
    const written = [
      [5, 0],
      [40, 1],
      [1_000, 2],
      [1_001, 1],
      [33_000, 1],
      [70_000, -1],
    ] as const;
    for (const [i, v] of written) t = set(t, i, v, edit, NO_CLASS, v);
    const seen: number[] = [];
    visitClasses(
      t,
      0,
      Infinity,
      [1],
      (v) => v === 1,
      (_, i) => {
        seen.push(i);
      },
    );
    expect(seen).toEqual([40, 1_001, 33_000]);
    const first: number[] = [];
    visitClasses(
      t,
      41,
      40_000,
      [1, 2],
      (v) => v === 1 || v === 2,
      (_, i) => {
        first.push(i);
        return true;
      },
    );
    expect(first).toEqual([1_000]);
  });
});
