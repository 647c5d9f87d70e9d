/**
 * Definitions compiled elsewhere (a worker thread): packed, unpacked in slices, taken by the
 * store as they are, checked against its limits; a problem found elsewhere is refused in the
 * usual words.
 */
import { describe, expect, it } from 'vitest';
import { createEngine, type NodeDefinition } from '../../src/index.js';
import { compileDefinition, compileNodes, complete, packDefinition, refusedDefinition, unpackDefinition } from '../../src/model/index.js';

const definition: NodeDefinition = {
  id: 'root',
  kind: 'pipeline',
  name: 'root',
  children: [
    { id: 'a', kind: 'activity', name: 'A' },
    {
      id: 'sub',
      kind: 'subprocess',
      name: 'Sub \u{1F600}',
      children: [
        { id: 'b', kind: 'activity', name: 'B', error_ignorable: true },
        { id: 'sub2', kind: 'subprocess', name: 'a longer name', children: [{ id: 'c', kind: 'event', name: '' }] },
      ],
    },
    { id: 'd', kind: 'gateway', name: 'D' },
  ],
};
const UNLIMITED = { maxNodes: Infinity, maxDepth: Infinity, maxNameLength: Infinity };

/** Pack as the worker does, then unpack, with a structured clone in between as postMessage makes. */
function viaWorkerForm(def: NodeDefinition) {
  const { packed } = packDefinition(compileNodes(def, UNLIMITED));
  return complete(unpackDefinition(structuredClone(packed)));
}

describe('precompiled definitions', () => {
  it('unpack to the same definition the store would compile', () => {
    const here = compileDefinition('10', definition);
    const there = viaWorkerForm(definition);
    for (const key of ['size', 'ids', 'names', 'kinds', 'traits', 'parent', 'end'] as const) expect(there[key]).toEqual(here[key]);
    for (const id of [...here.ids, 'nope']) expect(there.indexOf(id)).toBe(here.indexOf(id));
  });

  it('unpacking yields between slices of nodes', () => {
    const children = Array.from({ length: 5000 }, (_, i) => ({ id: `n${i}`, kind: 'activity' as const, name: `${i}` }));
    const { packed } = packDefinition(compileNodes({ id: 'root', kind: 'pipeline', children }, UNLIMITED));
    const work = unpackDefinition(packed);
    let checkpoints = 0;
    for (let step = work.next(); !step.done; step = work.next()) checkpoints++;
    expect(checkpoints).toBeGreaterThanOrEqual(2);
  });

  it('the store takes one in place of the nested definition, and answers as usual', () => {
    const engine = createEngine({ clock: () => 0, newVersion: () => '0'.repeat(32) });
    engine.createProject({ id: '1', bk_biz_id: '2', name: 'p' });
    engine.createTask({ id: '10', project_id: '1', name: 't', pipeline: viaWorkerForm(definition) as unknown as NodeDefinition });
    engine.createTask({ id: '11', project_id: '1', name: 't', pipeline: definition });
    for (const id of ['10', '11']) engine.start(id, 'root');
    const status = (id: string) =>
      JSON.stringify(engine.getTaskStatus({ bk_biz_id: '2', task_id: id }, { request_id: 'r', trace_id: 't' }).data);
    expect(status('10')).toBe(status('11'));
  });

  it("the store's limits apply to it, naming the first node over them as compiling would", () => {
    const precompiled = viaWorkerForm(definition);
    const refusal = (limits: Partial<typeof UNLIMITED>) => {
      try {
        compileDefinition('10', precompiled, { ...UNLIMITED, ...limits });
        return undefined;
      } catch (e) {
        return (e as Error).message;
      }
    };
    const inProcess = (limits: Partial<typeof UNLIMITED>) => {
      try {
        compileDefinition('10', definition, { ...UNLIMITED, ...limits });
        return undefined;
      } catch (e) {
        return (e as Error).message;
      }
    };
    expect(refusal({ maxDepth: 1 })).toBe(inProcess({ maxDepth: 1 }));
    expect(refusal({ maxDepth: 1 })).toMatch(/node "sub" \(pipeline\.children\[1\]\) field children: nesting deeper than 1/);
    expect(refusal({ maxNameLength: 5 })).toBe(inProcess({ maxNameLength: 5 }));
    expect(refusal({ maxNodes: 4 })).toMatch(
      /^invalid pipeline of task 10: node "root" \(pipeline\) field children: the task has more than 4 nodes$/,
    );
    expect(refusal({})).toBeUndefined();
  });

  it('limits are exclusive bounds: a definition exactly at each one is accepted', () => {
    // 7 nodes, nested 3 deep (root, sub, sub2, c), longest name 13 characters ("a longer name")
    const precompiled = viaWorkerForm(definition);
    expect(compileDefinition('10', precompiled, { maxNodes: 7, maxDepth: 3, maxNameLength: 13 }).size).toBe(7);
    expect(() => compileDefinition('10', precompiled, { ...UNLIMITED, maxNameLength: 12 })).toThrow(
      'invalid pipeline of task 10: node "sub2" (pipeline.children[1].children[1]) field name: must be at most 12 characters',
    );
  });

  it('unpacking checks that the packed arrays agree on the size, and keeps the policies', () => {
    const single = viaWorkerForm({ id: 'root', kind: 'pipeline', children: [] });
    expect([single.size, single.ids, single.indexOf('root')]).toEqual([1, ['root'], 0]);
    const { packed } = packDefinition(compileNodes(definition, UNLIMITED));
    for (const broken of [
      { ...packed, size: 6 },
      { ...packed, size: 0 },
      { ...packed, kinds: packed.kinds.slice(1) },
    ]) {
      expect(() => complete(unpackDefinition(broken))).toThrow(new TypeError('a packed definition whose arrays disagree on its size'));
    }
    const withPolicies: NodeDefinition = {
      id: 'root',
      kind: 'pipeline',
      children: [
        { id: 'a', kind: 'activity', auto_retry: { max_times: 2, interval_seconds: 10 }, timeout: { seconds: 30, action: 'forced_fail' } },
      ],
    };
    const here = compileNodes(withPolicies, UNLIMITED);
    const there = viaWorkerForm(withPolicies);
    expect([...there.policies]).toEqual([...here.policies]);
    expect(there.policies.size).toBe(1);
    expect(Object.isFrozen(there.policies.get(1))).toBe(true);
  });

  it('a problem found elsewhere is refused with the task named, and the store unchanged', () => {
    const engine = createEngine();
    engine.createProject({ id: '1', bk_biz_id: '2', name: 'p' });
    const before = engine.snapshot();
    expect(() =>
      engine.createTask({
        id: '10',
        project_id: '1',
        name: 't',
        pipeline: refusedDefinition('node "x" (pipeline) field kind: must be one of …') as unknown as NodeDefinition,
      }),
    ).toThrow('invalid pipeline of task 10: node "x" (pipeline) field kind: must be one of …');
    expect(engine.snapshot()).toBe(before);
  });

  it('an object that merely looks compiled is compiled like any other (and refused)', () => {
    const lookalike = { ...compileNodes(definition, UNLIMITED) };
    expect(() => compileDefinition('10', lookalike)).toThrow(/invalid pipeline of task 10: node pipeline field id/);
  });
});
