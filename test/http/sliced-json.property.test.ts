/** jsonPieces: the pieces, joined, are JSON.stringify's text, for any value and any piece size. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { jsonPieces } from '../../src/api/http/sliced-json.js';
import { CTX, clockedEngine, withProjects } from '../api/helpers.js';
import type { NodeDefinition } from '../../src/index.js';
import { runs } from '../fc-runs.js';

const join = (value: unknown, options?: Parameters<typeof jsonPieces>[1]): string => [...jsonPieces(value, options)].join('');

/** Piece sizes from tiny (every step a piece) to the default; budgets from "walk all" to "native all". */
const options = fc.record({ pieceChars: fc.integer({ min: 1, max: 70_000 }), nativeBudget: fc.integer({ min: 0, max: 3_000 }) });

/** Values JSON.stringify writes differently from plain JSON: what the walk must reproduce. */
const oddLeaf = fc.oneof(
  fc.constantFrom(
    undefined,
    NaN,
    Infinity,
    -Infinity,
    -0,
    () => 1,
    Symbol('s'),
    new Date(0),
    new Number(3),
    new String('boxed'),
    new Boolean(false),
  ),
  fc.string({ unit: 'binary' }), // lone surrogates included
  fc.double(),
);
const withOdd = fc.letrec((tie) => ({
  value: fc.oneof({ depthSize: 'small' }, oddLeaf, fc.jsonValue(), tie('array'), tie('object'), tie('toJson')),
  array: fc.array(tie('value'), { maxLength: 8 }),
  object: fc.dictionary(fc.oneof(fc.string(), fc.constantFrom('__proto__', 'constructor', '0', '10', '-1')), tie('value'), { maxKeys: 8 }),
  toJson: tie('value').map((inner) => ({ toJSON: (key: string) => ({ key, inner }) })),
}));

describe('jsonPieces', () => {
  it('JSON values: joined pieces equal JSON.stringify', () => {
    fc.assert(
      fc.property(fc.jsonValue(), options, (v, o) => {
        expect(join(v, o)).toBe(JSON.stringify(v));
      }),
      { numRuns: runs('slicedJson') },
    );
  });

  it('values with undefined, functions, symbols, non-finite numbers, boxed primitives, Dates, toJSON, lone surrogates', () => {
    fc.assert(
      fc.property(withOdd.value, options, (v, o) => {
        fc.pre(JSON.stringify(v) !== undefined);
        expect(join(v, o)).toBe(JSON.stringify(v));
      }),
      { numRuns: runs('slicedJsonOdd') },
    );
  });

  it('long strings are cut into pieces, never between the halves of a surrogate pair', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', minLength: 1, maxLength: 400 }), fc.integer({ min: 1, max: 50 }), (s, pieceChars) => {
        const pieces = [...jsonPieces({ s }, { pieceChars, nativeBudget: 0 })];
        expect(pieces.join('')).toBe(JSON.stringify({ s }));
        // an escaped character is at most 6 long (\u0000), and a pair is never cut: 2 characters more
        for (const p of pieces) expect(p.length).toBeLessThanOrEqual(6 * (pieceChars + 1) + 2);
      }),
      { numRuns: runs('slicedJsonStrings') },
    );
  });

  it('status answers of random trees, at any piece size and budget', () => {
    const tree = fc.letrec((tie) => ({
      node: fc.record({
        leaves: fc.integer({ min: 0, max: 6 }),
        subs: fc.oneof({ depthSize: 'small' }, fc.constant([]), fc.array(tie('node'), { maxLength: 3 })),
      }),
    })).node;
    fc.assert(
      fc.property(tree, options, fc.integer({ min: 0, max: 1000 }), (shape, o, seed) => {
        const c = withProjects(clockedEngine());
        let n = 0;
        const build = (s: { leaves: number; subs: readonly unknown[] }, kind: 'pipeline' | 'subprocess'): NodeDefinition => ({
          id: `n${n++}`,
          name: `node ${n} \u{1F600}`,
          kind,
          children: [
            ...Array.from({ length: s.leaves }, () => ({ id: `n${n++}`, name: 'leaf "quoted"', kind: 'activity' as const })),
            ...s.subs.map((x) => build(x as typeof s, 'subprocess')),
          ],
        });
        const definition = build(shape as { leaves: number; subs: readonly unknown[] }, 'pipeline');
        c.engine.createTask({ id: '10', project_id: '1', name: 'random', pipeline: definition });
        // Start everything in preorder, then fail some leaves: states, times and ex_data vary.
        const nodes: NodeDefinition[] = [];
        const walk = (d: NodeDefinition): void => {
          nodes.push(d);
          for (const k of d.children ?? []) walk(k);
        };
        walk(definition);
        for (const [k, node] of nodes.entries()) {
          c.engine.start('10', node.id);
          c.tick(1000);
          if ((k + seed) % 3 === 0 && node.kind === 'activity') c.engine.fail('10', node.id, { ex_data: { seed, k, text: 'x'.repeat(k) } });
        }
        const env = c.engine.getTaskStatus({ bk_biz_id: '2', task_id: '10', with_ex_data: true }, CTX);
        expect(join(env, o)).toBe(JSON.stringify(env));
      }),
      { numRuns: runs('slicedJsonStatus') },
    );
  });

  it('throws where JSON.stringify throws: cycles and BigInt', () => {
    const cyclic: Record<string, unknown> = { a: [1, 2] };
    cyclic.self = { back: cyclic };
    expect(() => join(cyclic)).toThrow(TypeError);
    expect(() => join({ n: [1n] }, { nativeBudget: 0 })).toThrow(TypeError);
    expect(() => join(undefined)).toThrow(TypeError);
  });

  it('each piece is about pieceChars long: the work between two is bounded', () => {
    const big = Array.from({ length: 5000 }, (_, i) => ({ id: i, name: `item ${i}`, tags: ['a', 'b'] }));
    const pieces = [...jsonPieces(big, { pieceChars: 4096 })];
    expect(pieces.length).toBeGreaterThan(20);
    for (const p of pieces.slice(0, -1)) expect(p.length).toBeLessThan(4096 + 60_000);
    expect(pieces.join('')).toBe(JSON.stringify(big));
  });
});
