/**
 * Pipeline definitions (SPEC §1): what is refused and how the refusal names node and field; the
 * limits; prototype-named ids as ordinary ids end to end; the preorder numbering on random trees.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  PipestateError,
  TRAIT_CONTAINER,
  TRAIT_ERROR_IGNORABLE,
  TRAIT_ROOT,
  childrenOf,
  compileDefinition,
  kindOf,
  type DefinitionLimits,
  type NodeDefinition,
} from '../../src/model/index.js';
import { NODE_KINDS, type NodeKind } from '../../src/lifecycle/index.js';
import { Store } from '../../src/store/index.js';
import { recordEvents, versionCounter } from '../store/helpers.js';
import { runs } from '../fc-runs.js';

const INVALID = 3540000;

function refusalOf(definition: unknown, limits?: Partial<DefinitionLimits>): PipestateError {
  const store = new Store({ clock: () => 0, limits });
  store.createProject({ id: '1', name: 'p' });
  try {
    store.createTask({ id: '10', project_id: '1', name: 't', pipeline: definition as NodeDefinition });
  } catch (e) {
    expect(e).toBeInstanceOf(PipestateError);
    expect((e as PipestateError).code).toBe(INVALID);
    expect(store.snapshot().getTask('10')).toBeUndefined();
    return e as PipestateError;
  }
  throw new Error('the definition was accepted');
}

const accepts = (definition: unknown, limits?: Partial<DefinitionLimits>): void => {
  const store = new Store({ clock: () => 0, limits });
  store.createProject({ id: '1', name: 'p' });
  store.createTask({ id: '10', project_id: '1', name: 't', pipeline: definition as NodeDefinition });
};

const P = 'invalid pipeline of task 10: ';
const leaf = (id: string, kind: NodeKind = 'activity'): NodeDefinition => ({ id, kind });
const root = (...children: unknown[]): unknown => ({ id: 'root', kind: 'pipeline', children });

describe('definition validation (3540000, naming node and field)', () => {
  const cases: { name: string; definition: unknown; message: string }[] = [
    { name: 'a pipeline that is not an object', definition: null, message: `${P}node pipeline field (node): must be an object` },
    {
      name: 'a child that is not an object',
      definition: root(leaf('a'), 5),
      message: `${P}node pipeline.children[1] field (node): must be an object`,
    },
    {
      name: 'a child that is an array',
      definition: root([leaf('a')]),
      message: `${P}node pipeline.children[0] field (node): must be an object`,
    },
    {
      name: 'a missing id',
      definition: root({ kind: 'activity' }),
      message: `${P}node pipeline.children[0] field id: must be 1..64 characters of [A-Za-z0-9_-]`,
    },
    {
      name: 'a numeric id',
      definition: root({ id: 7, kind: 'activity' }),
      message: `${P}node pipeline.children[0] field id: must be 1..64 characters of [A-Za-z0-9_-]`,
    },
    {
      name: 'an empty id',
      definition: root(leaf('')),
      message: `${P}node pipeline.children[0] field id: must be 1..64 characters of [A-Za-z0-9_-]`,
    },
    {
      name: 'an id of 65 characters',
      definition: root(leaf('a'.repeat(65))),
      message: `${P}node pipeline.children[0] field id: must be 1..64 characters of [A-Za-z0-9_-]`,
    },
    {
      name: 'an id with a space',
      definition: root(leaf('a b')),
      message: `${P}node pipeline.children[0] field id: must be 1..64 characters of [A-Za-z0-9_-]`,
    },
    {
      name: 'an id with a dot',
      definition: root(leaf('a.b')),
      message: `${P}node pipeline.children[0] field id: must be 1..64 characters of [A-Za-z0-9_-]`,
    },
    {
      name: 'an id with a non-ASCII letter',
      definition: root(leaf('nodé')),
      message: `${P}node pipeline.children[0] field id: must be 1..64 characters of [A-Za-z0-9_-]`,
    },
    {
      name: 'an id with a trailing newline',
      definition: root(leaf('a\n')),
      message: `${P}node pipeline.children[0] field id: must be 1..64 characters of [A-Za-z0-9_-]`,
    },
    {
      name: 'a duplicate id among siblings',
      definition: root(leaf('a'), leaf('a', 'gateway')),
      message: `${P}node "a" (pipeline.children[1]) field id: is not unique in the task`,
    },
    {
      name: 'a duplicate id at another depth',
      definition: root(leaf('a'), { id: 's', kind: 'subprocess', children: [leaf('x'), leaf('a')] }),
      message: `${P}node "a" (pipeline.children[1].children[1]) field id: is not unique in the task`,
    },
    {
      name: 'a child reusing the root id',
      definition: root(leaf('root')),
      message: `${P}node "root" (pipeline.children[0]) field id: is not unique in the task`,
    },
    {
      name: 'a root that is not a pipeline',
      definition: { id: 'r', kind: 'subprocess', children: [] },
      message: `${P}node "r" (pipeline) field kind: the root must be a pipeline`,
    },
    {
      name: 'a root activity',
      definition: { id: 'r', kind: 'activity' },
      message: `${P}node "r" (pipeline) field kind: the root must be a pipeline`,
    },
    {
      name: 'a pipeline below the root',
      definition: root({ id: 'inner', kind: 'pipeline' }),
      message: `${P}node "inner" (pipeline.children[0]) field kind: only the root may be a pipeline`,
    },
    {
      name: 'an unknown kind',
      definition: root({ id: 'a', kind: 'Activity' }),
      message: `${P}node "a" (pipeline.children[0]) field kind: must be one of pipeline, subprocess, activity, event, gateway`,
    },
    {
      name: 'a missing kind',
      definition: root({ id: 'a' }),
      message: `${P}node "a" (pipeline.children[0]) field kind: must be one of pipeline, subprocess, activity, event, gateway`,
    },
    {
      name: 'a prototype name as kind',
      definition: root({ id: 'a', kind: 'constructor' }),
      message: `${P}node "a" (pipeline.children[0]) field kind: must be one of pipeline, subprocess, activity, event, gateway`,
    },
    {
      name: 'a name that is not a string',
      definition: root({ id: 'a', kind: 'activity', name: 3 }),
      message: `${P}node "a" (pipeline.children[0]) field name: must be a string`,
    },
    {
      name: 'error_ignorable that is not a boolean',
      definition: root({ id: 'a', kind: 'activity', error_ignorable: 'true' }),
      message: `${P}node "a" (pipeline.children[0]) field error_ignorable: must be a boolean`,
    },
    {
      name: 'children that are not an array',
      definition: { id: 'root', kind: 'pipeline', children: { 0: leaf('a') } },
      message: `${P}node "root" (pipeline) field children: must be an array`,
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      expect(refusalOf(c.definition).message).toBe(c.message);
    });
  }

  it('children on a leaf name the node, the field and the kind', () => {
    for (const kind of ['activity', 'event', 'gateway'] as const) {
      const message = refusalOf(root({ id: 'x', kind, children: [leaf('y')] })).message;
      // (the message says "a activity"/"a event": see the report; only the substance is pinned)
      expect(message).toMatch(new RegExp(`^${P}node "x" \\(pipeline\\.children\\[0\\]\\) field children: an? ${kind} has no children$`));
    }
  });

  // Every other path here reads the same both ways: this one would show a reversed walk.
  it('a path is written root first: pipeline.children[2].children[0].children[1]', () => {
    const sub = (id: string, ...children: unknown[]) => ({ id, kind: 'subprocess', children });
    const definition = root(leaf('a'), leaf('b'), sub('s', sub('t', leaf('c'), { id: 'd', kind: 'activity', name: 5 })));
    expect(refusalOf(definition).message).toBe(`${P}node "d" (pipeline.children[2].children[0].children[1]) field name: must be a string`);
    const unnamed = root(sub('s', leaf('a'), leaf('b'), sub('t', 7)));
    expect(refusalOf(unnamed).message).toBe(`${P}node pipeline.children[0].children[2].children[0] field (node): must be an object`);
  });

  it('a cyclic definition is refused (as a duplicate id), not looped over', () => {
    const r: { id: string; kind: string; children: unknown[] } = { id: 'root', kind: 'pipeline', children: [] };
    const s = { id: 's', kind: 'subprocess', children: [r] };
    r.children.push(s);
    expect(refusalOf(r).message).toBe(`${P}node "root" (pipeline.children[0].children[0]) field id: is not unique in the task`);
  });

  it('accepts the edges: 64-char ids, [A-Za-z0-9_-], empty names, empty containers, error_ignorable anywhere', () => {
    accepts(
      root(
        leaf('a'.repeat(64)),
        leaf('A-z_0-9'),
        leaf('-'),
        leaf('_'),
        { id: 's', kind: 'subprocess', children: [] },
        { id: 'n', kind: 'event', name: '' },
        { id: 'e', kind: 'gateway', error_ignorable: true },
      ),
    );
    accepts({ id: 'only', kind: 'pipeline', error_ignorable: true });
  });

  it('an empty children array on a leaf is accepted (it has no children)', () => {
    accepts(root({ id: 'a', kind: 'activity', children: [] }));
  });

  it('a name longer than the limit', () => {
    expect(refusalOf(root({ id: 'a', kind: 'activity', name: 'x'.repeat(11) }), { maxNameLength: 10 }).message).toBe(
      `${P}node "a" (pipeline.children[0]) field name: must be at most 10 characters`,
    );
    accepts(root({ id: 'a', kind: 'activity', name: 'x'.repeat(10) }), { maxNameLength: 10 });
  });
});

describe('limits', () => {
  /** root → s1 → s2 → … → s{levels} → leaf */
  const chain = (levels: number): NodeDefinition => {
    let node: NodeDefinition = leaf('leaf');
    for (let l = levels; l >= 1; l--) node = { id: `s${l}`, kind: 'subprocess', children: [node] };
    return { id: 'root', kind: 'pipeline', children: [node] };
  };

  it('maxDepth: nodes may sit at depth maxDepth (root at 0), not deeper', () => {
    accepts(chain(2), { maxDepth: 3 }); // leaf at depth 3
    // a container with no children at depth maxDepth nests nothing deeper
    accepts(
      {
        id: 'root',
        kind: 'pipeline',
        children: [{ id: 's1', kind: 'subprocess', children: [{ id: 's2', kind: 'subprocess', children: [] }] }],
      },
      { maxDepth: 2 },
    );
    expect(refusalOf(chain(3), { maxDepth: 3 }).message).toBe(
      `${P}node "s3" (pipeline.children[0].children[0].children[0]) field children: nesting deeper than 3`,
    );
  });

  it('maxNodes: the root counts', () => {
    accepts(root(leaf('a'), leaf('b')), { maxNodes: 3 });
    expect(refusalOf(root(leaf('a'), leaf('b'), leaf('c')), { maxNodes: 3 }).message).toBe(
      `${P}node "root" (pipeline) field children: the task has more than 3 nodes`,
    );
    expect(refusalOf(root(leaf('a'), { id: 's', kind: 'subprocess', children: [leaf('b'), leaf('c')] }), { maxNodes: 4 }).message).toBe(
      `${P}node "s" (pipeline.children[1]) field children: the task has more than 4 nodes`,
    );
    accepts(root(leaf('a'), { id: 's', kind: 'subprocess', children: [leaf('b'), leaf('c')] }), { maxNodes: 5 });
  });

  it('a deep chain within the default limit compiles without recursion and runs', () => {
    const def = chain(998); // leaf at depth 999
    let now = 0;
    const store = new Store({ clock: () => ++now });
    store.createProject({ id: '1', name: 'p' });
    store.createTask({ id: '10', project_id: '1', name: 't', pipeline: def });
    store.start('10', 'root');
    for (let l = 1; l <= 998; l++) store.start('10', `s${l}`);
    store.start('10', 'leaf');
    store.pause('10', 's1');
    expect(() => store.callback('10', 'leaf')).not.toThrow();
    expect(() => store.reenter('10', 'leaf')).toThrow(/state is RUNNING, reenter needs FINISHED/);
    store.finish('10', 'leaf');
    expect(() => store.reenter('10', 'leaf')).toThrow('ancestor s1 is SUSPENDED');
    expect(refusalOf(chain(1_000)).message).toMatch(/field children: nesting deeper than 1000$/);
  });
});

describe('prototype-named ids are ordinary ids end to end', () => {
  const NAMES = ['__proto__', 'constructor', 'hasOwnProperty', 'toString', 'valueOf', 'prototype', '__defineGetter__'];
  const pipeline: NodeDefinition = {
    id: 'constructor',
    kind: 'pipeline',
    children: [
      {
        id: '__proto__',
        kind: 'subprocess',
        children: [
          { id: 'hasOwnProperty', kind: 'activity' },
          { id: 'toString', kind: 'event' },
        ],
      },
      { id: 'valueOf', kind: 'gateway', error_ignorable: true },
    ],
  };

  it('create, operate, getNode, history, events', () => {
    let now = 100;
    const versions = versionCounter();
    const store = new Store({ clock: () => ++now, newVersion: versions.next });
    store.createProject({ id: '1', name: 'p' });
    const events = recordEvents(store);
    store.createTask({ id: '10', project_id: '1', name: 't', pipeline });
    const def = store.snapshot().getTask('10')!.definition;
    expect(def.ids).toEqual(['constructor', '__proto__', 'hasOwnProperty', 'toString', 'valueOf']);
    expect(def.indexOf('__proto__')).toBe(1);
    expect(def.indexOf('prototype')).toBe(-1);
    expect(def.indexOf('__defineGetter__')).toBe(-1);

    store.start('10', 'constructor');
    store.start('10', '__proto__');
    store.start('10', 'hasOwnProperty');
    const exData = JSON.parse('{"__proto__": {"polluted": true}, "constructor": 1}') as Record<string, unknown>;
    store.fail('10', 'hasOwnProperty', { ex_data: exData as never });
    const failed = store.snapshot().getNode('10', 'hasOwnProperty')!;
    expect(failed.state).toBe('FAILED');
    expect(Object.hasOwn(failed.ex_data as object, '__proto__')).toBe(true);
    expect(JSON.stringify(failed.ex_data)).toBe('{"__proto__":{"polluted":true},"constructor":1}');
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    store.retry('10', 'hasOwnProperty');
    store.start('10', 'hasOwnProperty');
    store.finish('10', 'hasOwnProperty');
    store.start('10', 'valueOf');
    store.fail('10', 'valueOf');
    store.pause('10', 'toString');

    const snap = store.snapshot();
    expect(snap.getNode('10', 'constructor')!.state).toBe('RUNNING');
    expect(snap.getNode('10', '__proto__')!.state).toBe('RUNNING');
    expect(snap.getNode('10', 'hasOwnProperty')).toMatchObject({ state: 'FINISHED', retry: 1, loop: 1 });
    expect(snap.getNode('10', 'toString')!.state).toBe('SUSPENDED');
    expect(snap.getNode('10', 'valueOf')).toMatchObject({ state: 'FINISHED', error_ignored: true });
    expect(snap.getHistory('10', 'hasOwnProperty')).toEqual([failed]);
    expect(snap.getHistory('10', '__proto__')).toEqual([]);
    for (const name of ['prototype', '__defineGetter__']) {
      expect(snap.getNode('10', name)).toBeUndefined();
      expect(snap.getHistory('10', name)).toBeUndefined();
    }
    expect(() => store.finish('10', '__proto__')).toThrow('descendant toString is SUSPENDED');
    expect(events.nodes.map((e) => e.nodeId)).toEqual([
      'constructor',
      '__proto__',
      'hasOwnProperty',
      'hasOwnProperty',
      'hasOwnProperty',
      'hasOwnProperty',
      'hasOwnProperty',
      'valueOf',
      'valueOf',
      'toString',
    ]);
    // and prototype names are not node ids of another task
    store.createTask({ id: '11', project_id: '1', name: 't', pipeline: { id: 'r', kind: 'pipeline' } });
    for (const name of NAMES) expect(store.snapshot().getNode('11', name)).toBeUndefined();
  });
});

// ---------------------------------------------------------------------------------------------

interface Shape {
  readonly kind: NodeKind;
  readonly ignorable: boolean;
  readonly children: readonly Shape[];
}

const leafShape: fc.Arbitrary<Shape> = fc.record({
  kind: fc.constantFrom<NodeKind>('activity', 'event', 'gateway'),
  ignorable: fc.boolean(),
  children: fc.constant([]),
});
const shapeAt = (depth: number): fc.Arbitrary<Shape> =>
  depth === 0
    ? leafShape
    : fc.oneof(
        { weight: 2, arbitrary: leafShape },
        {
          weight: 1,
          arbitrary: fc.record({
            kind: fc.constant<NodeKind>('subprocess'),
            ignorable: fc.boolean(),
            children: fc.array(shapeAt(depth - 1), { maxLength: 4 }),
          }),
        },
      );
const treeShape: fc.Arbitrary<Shape> = fc.record({
  kind: fc.constant<NodeKind>('pipeline'),
  ignorable: fc.boolean(),
  children: fc.array(shapeAt(4), { maxLength: 5 }),
});

/** Numbers the shape's nodes in an order unrelated to preorder, so ids say nothing about position. */
function toDefinition(shape: Shape, ids: () => string): NodeDefinition {
  return {
    id: ids(),
    kind: shape.kind,
    error_ignorable: shape.ignorable,
    name: `name of ${shape.kind}`,
    children: shape.children.map((c) => toDefinition(c, ids)),
  };
}

interface Flat {
  id: string;
  kind: NodeKind;
  ignorable: boolean;
  parent: number;
  depth: number;
  childIds: string[];
  subtree: string[];
}

/** The reference: a recursive walk. */
function flatten(def: NodeDefinition): Flat[] {
  const out: Flat[] = [];
  const walk = (d: NodeDefinition, parent: number, depth: number): string[] => {
    const i = out.length;
    const f: Flat = { id: d.id, kind: d.kind, ignorable: d.error_ignorable ?? false, parent, depth, childIds: [], subtree: [d.id] };
    out.push(f);
    for (const c of d.children ?? []) {
      f.childIds.push(c.id);
      f.subtree.push(...walk(c, i, depth + 1));
    }
    return f.subtree;
  };
  walk(def, -1, 0);
  return out;
}

describe('preorder numbering (property)', () => {
  it('ids, parent, end, childrenOf, indexOf, kinds and traits agree with a recursive walk', () => {
    fc.assert(
      fc.property(treeShape, fc.integer({ min: 0, max: 1_000 }), (shape, seed) => {
        let n = 0;
        const def = toDefinition(shape, () => `n${(n++ * 7919 + seed) % 100_003}`);
        const compiled = compileDefinition('10', def);
        const flat = flatten(def);
        expect(compiled.size).toBe(flat.length);
        expect(compiled.ids).toEqual(flat.map((f) => f.id));
        flat.forEach((f, i) => {
          expect(compiled.indexOf(f.id)).toBe(i);
          expect(compiled.parent[i]).toBe(f.parent);
          // the subtree is exactly the range [i, end[i])
          expect(compiled.ids.slice(i, compiled.end[i])).toEqual(f.subtree);
          expect(childrenOf(compiled, i).map((c) => compiled.ids[c])).toEqual(f.childIds);
          expect(kindOf(compiled, i)).toBe(f.kind);
          expect(NODE_KINDS[compiled.kinds[i]]).toBe(f.kind);
          const container = f.kind === 'pipeline' || f.kind === 'subprocess';
          expect(compiled.traits[i]).toBe(
            (container ? TRAIT_CONTAINER : 0) | (f.parent < 0 ? TRAIT_ROOT : 0) | (f.ignorable ? TRAIT_ERROR_IGNORABLE : 0),
          );
          expect(compiled.names[i]).toBe(`name of ${f.kind}`);
        });
        expect(compiled.indexOf('missing')).toBe(-1);
        expect(compiled.end[0]).toBe(flat.length);
      }),
      { numRuns: runs('modelDefinition') },
    );
  });

  it('maxDepth and maxNodes refuse exactly the trees that exceed them', () => {
    fc.assert(
      fc.property(treeShape, fc.integer({ min: 0, max: 6 }), fc.integer({ min: 1, max: 40 }), (shape, maxDepth, maxNodes) => {
        let n = 0;
        const def = toDefinition(shape, () => `n${n++}`);
        const flat = flatten(def);
        const depth = Math.max(...flat.map((f) => f.depth));
        const tooBig = flat.length > maxNodes || depth > maxDepth;
        let refused: PipestateError | undefined;
        try {
          compileDefinition('10', def, { maxDepth, maxNodes, maxNameLength: 100 });
        } catch (e) {
          refused = e as PipestateError;
        }
        expect(refused !== undefined).toBe(tooBig);
        if (refused) expect(refused.message).toMatch(/field children: (nesting deeper than|the task has more than)/);
      }),
      { numRuns: runs('modelDefinition') },
    );
  });
});
